"""Request bodies and list filters of organisations, invoicers, payment details and products."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from billing_service.einvoice.fields import CountryCode, Line, PeppolId, Postcode, VatId
from billing_service.platform.fields import (
    Currency,
    Id,
    LongText,
    Money,
    Percent,
    Slug,
    Text,
)
from shared.errors import ValidationFailed
from shared.fields import Email, SingleLine
from shared.models import Body
from shared.pagination import PageParams

# API names that are not the column's.
COLUMN_NAMES = {"default": "is_default"}


def to_columns(values: dict[str, Any]) -> dict[str, Any]:
    """API names -> column names (e.g. `default` -> `is_default`)."""
    return {COLUMN_NAMES.get(key, key): value for key, value in values.items()}


class ResourceBody(Body):
    """A create or update of a company-owned record: `changes()` are the columns to write."""

    # Fields that may be left out of an update but not set to null (NOT NULL columns).
    not_null: ClassVar[frozenset[str]] = frozenset(
        {"default", "name", "company_entity", "organisation_id", "type", "price", "unit", "active"}
    )
    # On a create, the company to file the record in; on an update (InvoiceMee repeats it on
    # PUT) it must be the record's own.
    company_id: Id | None = None

    def changes(self, *exclude: str) -> dict[str, Any]:
        """The fields sent, as columns; `company_id` is never one (records do not move)."""
        return to_columns(self.model_dump(exclude_unset=True, exclude={"company_id", *exclude}))


class CompanyFilter(PageParams):
    company_id: Id | None = None


# --- organisations ----------------------------------------------------------------------


class OrganisationUpdate(ResourceBody):
    name: Text | None = Field(default=None, min_length=1)
    slug: Slug | None = None


class OrganisationCreate(OrganisationUpdate):
    name: Text = Field(min_length=1)


# --- invoicers and payment details --------------------------------------------------------


class PartyUpdate(ResourceBody):
    """What invoicers and recipients, the two parties of an invoice, both have."""

    company_entity: Text | None = Field(default=None, min_length=1)
    description: LongText | None = None
    company_tax_number: Text | None = None
    company_registration_number: Text | None = None
    company_address: LongText | None = None
    currency: Currency | None = None
    tax_rate: Percent | None = None
    default: bool | None = None
    # What e-invoices need (EN 16931): company_address stays for display.
    address_line1: Line | None = None
    address_line2: Line | None = None
    city: Line | None = None
    postcode: Postcode | None = None
    country_code: CountryCode | None = None
    vat_id: VatId | None = None
    peppol_id: PeppolId | None = None


class InvoicerUpdate(PartyUpdate):
    # The seller's contact on e-invoices (XRechnung requires all three).
    contact_name: Text | None = None
    email: Email | None = None
    phone: Phone | None = None


class InvoicerCreate(InvoicerUpdate):
    company_entity: Text = Field(min_length=1)


Phone = Annotated[SingleLine, Field(max_length=64)]


class PaymentDetailBody(ResourceBody):
    label: Text | None = None
    bank_name: Text | None = None
    account_name: Text | None = None
    account_number: Annotated[SingleLine, Field(max_length=64)] | None = None
    iban: Annotated[SingleLine, Field(max_length=64)] | None = None
    swift: Annotated[SingleLine, Field(max_length=32)] | None = None
    default: bool | None = None


class PaymentDetailCreate(PaymentDetailBody):
    """A new payment detail names the account to pay: an IBAN, or an account number."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["iban"], "properties": {"iban": {"type": "string", "minLength": 1}}},
                {
                    "required": ["account_number"],
                    "properties": {"account_number": {"type": "string", "minLength": 1}},
                },
            ]
        }
    )

    @model_validator(mode="after")
    def _names_an_account(self) -> PaymentDetailCreate:
        if not (self.iban or self.account_number):
            raise ValidationFailed.field(
                "iban", "The iban field is required when account number is not present."
            )
        return self


# --- products -----------------------------------------------------------------------------

Unit = Annotated[SingleLine, Field(min_length=1, max_length=32)]
ProductType = Literal["product", "service"]
Search = Annotated[SingleLine, Field(max_length=100)]


class ProductUpdate(ResourceBody):
    type: ProductType | None = None
    name: Text | None = Field(default=None, min_length=1)
    description: LongText | None = None
    sku: Annotated[SingleLine, Field(max_length=64)] | None = None
    price: Money | None = None
    unit: Unit | None = None
    tax_rate: Percent | None = None
    active: bool | None = None


class ProductCreate(ProductUpdate):
    type: ProductType = "service"
    name: Text = Field(min_length=1)
    price: Money = Decimal(0)
    unit: Unit = "service"
    active: bool = True
    stock_quantity: Annotated[Decimal, Field(ge=0, le=Decimal("1e12"))] | None = None

    @model_validator(mode="after")
    def _services_have_no_stock(self) -> ProductCreate:
        if self.type == "service" and self.stock_quantity is not None:
            raise ValidationFailed.field("stock_quantity", "Services have no stock.")
        return self

    def changes(self, *exclude: str) -> dict[str, Any]:
        # Defaults count too: a created product has every column set.
        return to_columns(self.model_dump(exclude={"company_id", *exclude}))


def _nonzero(value: Decimal) -> Decimal:
    if value == 0 or not value.is_finite():
        raise ValueError("must be a number other than zero")
    return value


class StockAdjustment(Body):
    # Four decimal places, as the stock column keeps: a finer adjustment would be stored as 0.
    adjustment: Annotated[
        Decimal,
        Field(
            ge=Decimal("-1e12"),
            le=Decimal("1e12"),
            decimal_places=4,
            json_schema_extra={"not": {"anyOf": [{"const": 0}, {"pattern": "^-?0+(\\.0+)?$"}]}},
        ),
        AfterValidator(_nonzero),
    ]
    reason: Text | None = None


class ProductFilter(CompanyFilter):
    search: Search | None = None
    type: ProductType | None = None
    active: bool | None = None

    @field_validator("active", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return {"1": True, "0": False}.get(value, value)
