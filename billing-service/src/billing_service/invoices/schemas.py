"""Request models of the invoices table's routes: /invoices, /quotes, /estimates, actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import AliasChoices, ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from billing_service.einvoice.fields import ExemptionReason, Reference, UnitCode, VatCategory
from billing_service.invoices.drafts import Draft
from billing_service.invoices.lifecycle import OVERDUE, SEND_TEMPLATES, STATUSES
from billing_service.platform.fields import Currency, Id, LongText, Percent, Quantity, Text
from shared.fields import AwareDateTime, IsoDate, SingleLine
from shared.models import Body
from shared.pagination import MAX_CURSOR_LENGTH, PageParams

Kind = Literal["invoice", "quote", "recurring", "template"]
# Lists show credit notes too; they are made from their invoice (/invoices/{id}/credit-notes).
ListedKind = Literal["invoice", "quote", "recurring", "template", "credit_note"]
Interval = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]
ItemPrice = Annotated[Decimal, Field(ge=0, le=Decimal("1e9"), decimal_places=4)]
MAX_RUNS = 1000  # a template billing more periods than this is a mistake, not a contract
SORT_PATTERN = r"^-?(id|created_at|scheduled_date|issue_date|due_date|total|label|invoice_number)$"


def _line_rules(schema: dict[str, JsonValue]) -> None:
    """In the schema: an exempt line (E) states why (BR-E-10, ItemIn's validator); a line of
    category S or Z (also the default category) states no reason (the service refuses it).
    Built afresh each time: the document adds the aliases' rules to the same list."""
    reason_required: JsonValue = {
        "if": {"required": ["vat_category"], "properties": {"vat_category": {"const": "E"}}},
        "then": {
            "required": ["vat_exemption_reason"],
            "properties": {"vat_exemption_reason": {"type": "string", "pattern": "\\S"}},
        },
    }
    reason_refused: JsonValue = {
        "if": {
            "not": {
                "required": ["vat_category"],
                "properties": {"vat_category": {"enum": ["E", "AE", "K", "G", "O"]}},
            }
        },
        "then": {"properties": {"vat_exemption_reason": {"type": "null"}}},
    }
    schema["allOf"] = [reason_required, reason_refused]


class ItemIn(Body):
    model_config = ConfigDict(json_schema_extra=_line_rules)
    label: Text = Field(min_length=1, validation_alias=AliasChoices("label", "description"))
    unit: Literal["hour", "service", "product", "pcs"] = "service"
    quantity: Quantity
    price: ItemPrice = Field(validation_alias=AliasChoices("price", "unit_price"))
    tax_percentage: Percent | None = None
    discount_percentage: bool = False
    discount: Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), decimal_places=4)] | None = None
    price_includes_tax: bool = False
    price_includes_discount: bool = False
    include: bool = True
    product_id: Id | None = None
    vat_category: VatCategory | None = Field(
        default=None,
        description="S standard, Z zero-rated, E exempt, AE reverse charge, K intra-community, "
        "G export, O outside the scope of VAT. Default: S when the line's tax is above zero, "
        "else Z. A category other than S makes the line's tax 0 unless it names one.",
    )
    vat_exemption_reason: ExemptionReason | None = Field(
        default=None,
        validate_default=True,
        description="Why the line bears no VAT: required for E, refused for S and Z (a "
        "standard text is used for AE, K, G and O when none is given)",
    )
    unit_code: UnitCode | None = Field(
        default=None, description="Overrides the code mapped from `unit` (hour HUR, pcs H87, C62)"
    )

    @field_validator("vat_exemption_reason")
    @classmethod
    def _exempt_says_why(cls, reason: str | None, info: ValidationInfo) -> str | None:
        # BR-E-10: an exempt line states its legal ground; a generic text would state none.
        if info.data.get("vat_category") == "E" and not reason:
            # Phrased to follow "The <field> field", as every field's message is.
            raise ValueError(
                "is required when the VAT category is E (exempt): the legal ground of the exemption"
            )
        return reason


class MemberIn(Body):
    member_id: Id
    view_invoice: bool = True
    receive_invoice: bool = False
    action_invoice: bool = False


# Invoice fields that may be left out but never set to null.
# The statuses a record of any type may be created in (lifecycle.import_path).
CREATED_IN_ANY_TYPE = ("draft", "scheduled", "cancelled")
NOT_NULL_FIELDS = frozenset(
    {"label", "type", "currency", "scheduled_date", "auto_send", "reminders_paused"}
)


def _published_create(schema: dict[str, JsonValue]) -> None:
    """What the schema says of a create beyond the fields: a recurring template names its
    interval; `status` lists what every type may be created in and `paid_at` is for a paid
    one, which the descriptions say (an invoice, a quote: more statuses; the route decides the
    type on /quotes, which one schema cannot say)."""
    properties = schema["properties"]
    assert isinstance(properties, dict)
    properties["status"] = {
        "enum": [*CREATED_IN_ANY_TYPE, None],
        "description": "On create only: a record imported in a later status. Any type: "
        f"{', '.join(CREATED_IN_ANY_TYPE)}; an invoice also approved, sent or paid, a quote "
        "approved, sent or declined.",
    }
    properties["paid_at"] = {
        "type": "null",
        "description": "With status `paid` (an invoice imported as paid): the day it was paid.",
    }
    schema["if"] = {"required": ["type"], "properties": {"type": {"const": "recurring"}}}
    schema["then"] = {"required": ["recurring"], "properties": {"recurring": {"type": "string"}}}


class InvoiceWrite(Body):
    """A create (POST) or a partial update (PUT/PATCH: what is sent changes)."""

    model_config = ConfigDict(json_schema_extra=_published_create)
    not_null: ClassVar[frozenset[str]] = NOT_NULL_FIELDS

    label: Annotated[SingleLine, Field(min_length=1, max_length=64)] | None = Field(
        default=None, validation_alias=AliasChoices("label", "invoice_number")
    )
    type: Kind | None = None
    status: str | None = Field(
        default=None, description="On create only: a record imported in a later status."
    )
    paid_at: IsoDate | None = Field(
        default=None, description="With status `paid` on create: the day it was paid."
    )
    company_id: Id | None = None
    invoicer_id: Id | None = None
    invoice_recipient_id: Id | None = Field(
        default=None, validation_alias=AliasChoices("invoice_recipient_id", "customer_id")
    )
    invoicer_payment_detail_id: Id | None = None
    currency: Currency | None = None
    scheduled_date: IsoDate | None = Field(
        default=None, validation_alias=AliasChoices("scheduled_date", "issue_date")
    )
    due_date: IsoDate | None = None
    valid_until: IsoDate | None = None
    subject: Text | None = None
    period: Text | None = None
    recurring: Interval | None = None
    next_run_date: IsoDate | None = None
    invoice_parent_id: Id | None = None
    auto_send: bool | None = None
    end_date: IsoDate | None = None
    max_runs: Annotated[int, Field(ge=1, le=MAX_RUNS)] | None = None
    description: LongText | None = None
    notes: LongText | None = None
    buyer_reference: Reference | None = Field(
        default=None,
        description="The buyer's reference (XRechnung's Leitweg-ID); none: the recipient's",
    )
    purchase_order_reference: Reference | None = None
    reminders_paused: bool | None = Field(
        default=None,
        description="No automatic reminder while true; the only field an update may change "
        "once the invoice is issued",
    )
    items: Annotated[list[ItemIn], Field(max_length=200)] | None = None
    members: Annotated[list[MemberIn], Field(max_length=100)] | None = None

    def draft(self, kind: str | None) -> Draft:
        fields = self.model_dump(
            exclude_unset=True, exclude={"items", "members", "status", "paid_at", "company_id"}
        )
        if kind is not None:
            fields["type"] = kind
        return Draft(
            fields=fields,
            items=[item.model_dump() for item in self.items] if self.items is not None else None,
            members=(
                [member.model_dump() for member in self.members]
                if self.members is not None
                else None
            ),
            company_id=self.company_id,
            status=self.status,
            paid_at=self.paid_at,
        )


LISTED_STATUSES: list[JsonValue] = [*sorted({*STATUSES, OVERDUE})]


def _create_only(schema: dict[str, JsonValue]) -> None:
    properties = schema["properties"]
    assert isinstance(properties, dict)
    for name in ("status", "paid_at"):
        properties[name] = {"type": "null", "description": "On create only (422 otherwise)."}


class InvoiceUpdate(InvoiceWrite):
    """An update: what is sent changes; the status moves by the action routes, a payment is
    recorded by /pay (`status`, `paid_at`: 422)."""

    model_config = ConfigDict(json_schema_extra=_create_only)


class ListFilters(PageParams):
    status: str | None = Field(
        default=None,
        description="A status, `overdue`, `rejected` on /estimates, or a client-portal word "
        "(`Unpaid`, `Paid`, `Cancelled`; on /quotes `Delivered`, `Accepted`, `Lost`, `Dead`).",
        # What every caller may send on every list (the others: as the description says).
        json_schema_extra={"enum": LISTED_STATUSES},
    )
    type: ListedKind | None = None
    search: Annotated[SingleLine, Field(max_length=100)] | None = None
    company_id: Id | None = None
    invoice_recipient_id: Id | None = Field(
        default=None, validation_alias=AliasChoices("invoice_recipient_id", "customer_id")
    )
    date_from: IsoDate | None = Field(
        default=None, validation_alias=AliasChoices("from", "date_from")
    )
    date_to: IsoDate | None = Field(default=None, validation_alias=AliasChoices("to", "date_to"))
    sort: Annotated[str, Field(pattern=SORT_PATTERN)] = "-id"
    cursor: Annotated[str, Field(max_length=MAX_CURSOR_LENGTH)] | None = None


class ApproveBody(Body):
    approved_at: AwareDateTime | None = None


class SendBody(Body):
    template: Literal[SEND_TEMPLATES] = "invoice-issued"  # type: ignore[valid-type]
    custom_message: LongText | None = None


class SendEmailBody(Body):
    custom_message: LongText | None = None


class PayBody(Body):
    amount: Annotated[Decimal, Field(ge=Decimal("0.01"), le=Decimal("1e13"))]
    paid_date: IsoDate | None = None
    reference: Text | None = None
    payment_method: Annotated[SingleLine, Field(max_length=64)] | None = None


class ConvertBody(Body):
    type: Kind
    scheduled_date: IsoDate | None = None
    due_date: IsoDate | None = None
    recurring: Interval | None = None
    period: Text | None = None


class ScheduleBody(Body):
    scheduled_date: IsoDate
    due_now: bool = False


class DueDateBody(Body):
    due_date: IsoDate


class PeriodBody(Body):
    period: Text = Field(min_length=1)


class MembersBody(Body):
    members: Annotated[list[MemberIn], Field(max_length=100)]
