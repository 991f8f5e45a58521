"""/invoices (every type), /quotes (INNOVATECH) and /estimates (InvoiceFlow): one set of
handlers, parameterised by the route family's ability and the type it shows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from billing_service.handlers.common import document_scope, member_scope, scope_for
from billing_service.invoice_views import (
    client_invoice_view,
    invoice_view,
    statuses_for_portal_word,
)
from billing_service.keys import DOCUMENTS, INVOICES, RECURRING
from billing_service.lifecycle import SEND_TEMPLATES
from billing_service.permissions import reads_without_ability
from billing_service.repositories.invoices import Invoice
from billing_service.schemas.fields import Currency, Id, LongText, Percent, Quantity, Text
from billing_service.services.invoices import Draft, ListQuery, etag
from shared.errors import ValidationFailed
from shared.fields import AwareDateTime, IsoDate, SingleLine
from shared.identity import identity_of
from shared.pagination import MAX_CURSOR_LENGTH, Page, PageParams, paginated, public_base_url
from shared.validation import parse_body, parse_query, path_id, reject_nulls
from shared.web import json_response

Kind = Literal["invoice", "quote", "recurring", "template"]
Interval = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]
ItemPrice = Annotated[Decimal, Field(ge=0, le=Decimal("1e9"), decimal_places=4)]
MAX_RUNS = 1000  # a template billing more periods than this is a mistake, not a contract
STATUSES = (
    "draft",
    "scheduled",
    "due",
    "approved",
    "sent",
    "paid",
    "cancelled",
    "declined",
    "converted",
)


@dataclass(frozen=True)
class Family:
    ability: str  # "invoices" or "quotes"
    kind: str | None  # the one type this family shows, or None for all
    estimate: bool = False  # InvoiceFlow's names: declined is "rejected"


INVOICES_FAMILY = Family("invoices", None)
QUOTES_FAMILY = Family("quotes", "quote")
ESTIMATES_FAMILY = Family("quotes", "quote", estimate=True)
# /invoices as a client-portal user sees it: invoices only (INNOVATECH; quotes live under
# /quotes).
PORTAL_INVOICES_FAMILY = Family("invoices", "invoice")


def _shown(request: web.Request, family: Family) -> Family:
    """The family a route shows this caller."""
    if family is INVOICES_FAMILY and identity_of(request).kind == "client":
        return PORTAL_INVOICES_FAMILY
    return family


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ItemIn(Body):
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


class MemberIn(Body):
    member_id: Id
    view_invoice: bool = True
    receive_invoice: bool = False
    action_invoice: bool = False


# Invoice fields that may be left out but never set to null.
NOT_NULL_FIELDS = frozenset({"label", "type", "currency", "scheduled_date", "auto_send"})


class InvoiceWrite(Body):
    label: Annotated[SingleLine, Field(min_length=1, max_length=64)] | None = Field(
        default=None, validation_alias=AliasChoices("label", "invoice_number")
    )
    type: Kind | None = None
    status: str | None = None
    paid_at: IsoDate | None = None  # with status paid: the day it was paid
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
    items: Annotated[list[ItemIn], Field(max_length=200)] | None = None
    members: Annotated[list[MemberIn], Field(max_length=100)] | None = None

    def draft(self, kind: str | None) -> Draft:
        fields = self.model_dump(
            exclude_unset=True, exclude={"items", "members", "status", "paid_at", "company_id"}
        )
        reject_nulls(fields, NOT_NULL_FIELDS)
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


class ListFilters(PageParams):
    status: str | None = None
    type: Kind | None = None
    search: Annotated[SingleLine, Field(max_length=100)] | None = None
    company_id: Id | None = None
    invoice_recipient_id: Id | None = Field(
        default=None, validation_alias=AliasChoices("invoice_recipient_id", "customer_id")
    )
    date_from: IsoDate | None = Field(
        default=None, validation_alias=AliasChoices("from", "date_from")
    )
    date_to: IsoDate | None = Field(default=None, validation_alias=AliasChoices("to", "date_to"))
    sort: Annotated[
        str,
        Field(
            pattern=r"^-?(id|created_at|scheduled_date|issue_date|due_date|total|label|invoice_number)$"
        ),
    ] = "-id"
    cursor: Annotated[str, Field(max_length=MAX_CURSOR_LENGTH)] | None = None


class ApproveBody(Body):
    approved_at: AwareDateTime | None = None


class SendBody(Body):
    template: Literal[SEND_TEMPLATES] = "invoice-issued"  # type: ignore[valid-type]
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


def _status_filter(family: Family, status: str | None) -> str | None:
    if status is None:
        return None
    if family.estimate and status == "rejected":
        return "declined"
    if status != "overdue" and status not in STATUSES:
        raise ValidationFailed.field("status", "The selected status is invalid.")
    return status


def _statuses(
    request: web.Request, family: Family, status: str | None
) -> tuple[str | None, list[str] | None]:
    """The list's status filter: a client-portal user may filter in the portal's own words
    (`?status=Unpaid`, `/quotes?status=Delivered`), as the answers show them."""
    if status is not None and identity_of(request).kind == "client":
        statuses = statuses_for_portal_word(family.kind or "invoice", status)
        if statuses is not None:
            return None, statuses
    return _status_filter(family, status), None


def _view(request: web.Request, invoice: Invoice, family: Family, **extra: Any) -> dict[str, Any]:
    view = client_invoice_view if identity_of(request).kind == "client" else invoice_view
    return view(invoice, public_base_url(request), estimate=family.estimate, **extra)


def _answer(
    request: web.Request,
    invoice: Invoice,
    family: Family,
    *,
    status: int = 200,
    message: str | None = None,
    **extra: Any,
) -> web.Response:
    payload: dict[str, Any] = {"data": _view(request, invoice, family, **extra)}
    if message:
        payload["message"] = message
    return json_response(payload, status=status, headers={"ETag": etag(invoice)})


async def _detailed(
    request: web.Request,
    scope: Any,
    invoice: Invoice,
    family: Family,
    *,
    status: int = 200,
    message: str | None = None,
) -> web.Response:
    detail = await request.app[INVOICES].detail(scope, invoice.id, kind=family.kind)
    return _answer(request, detail.invoice, family, status=status, message=message, detail=detail)


def list_invoices(route_family: Family) -> Any:
    async def handle(request: web.Request) -> web.Response:
        family = _shown(request, route_family)
        needs_ability = not reads_without_ability(identity_of(request), family.kind, "read")
        scope = await scope_for(request, f"{family.ability}:read" if needs_ability else None)
        filters = parse_query(request, ListFilters)
        if family is PORTAL_INVOICES_FAMILY and filters.type not in (None, "invoice"):
            raise ValidationFailed.field("type", "Quotes are listed under /quotes.")
        status, statuses = _statuses(request, family, filters.status)
        query = ListQuery(
            params=PageParams(page=filters.page, per_page=filters.per_page),
            status=status,
            statuses=statuses,
            type=family.kind or filters.type,
            search=filters.search,
            company_id=filters.company_id,
            recipient_id=filters.invoice_recipient_id,
            date_from=filters.date_from,
            date_to=filters.date_to,
            sort=filters.sort,
            cursor=filters.cursor,
        )
        result = await request.app[INVOICES].list_page(scope, query)
        items = [_view(request, row.invoice, family, listed=row) for row in result.items]
        payload = paginated(request, Page(items, result.total, result.params))
        payload["meta"] |= {"next_cursor": result.next_cursor, "total_capped": result.total_capped}
        return json_response(payload)

    return handle


def get_invoice(route_family: Family) -> Any:
    async def handle(request: web.Request) -> web.Response:
        family = _shown(request, route_family)
        scope = await document_scope(request, "read", members_only=False, kind=family.kind)
        detail = await request.app[INVOICES].detail(scope, path_id(request), kind=family.kind)
        return _answer(request, detail.invoice, family, detail=detail)

    return handle


def create_invoice(family: Family) -> Any:
    async def handle(request: web.Request) -> web.Response:
        scope = await document_scope(request, "create")
        body = await parse_body(request, InvoiceWrite)
        invoice = await request.app[INVOICES].create(scope, body.draft(family.kind))
        noun = "Estimate" if family.estimate else invoice.type.capitalize()
        return await _detailed(
            request, scope, invoice, family, status=201, message=f"{noun} created"
        )

    return handle


def update_invoice(family: Family) -> Any:
    async def handle(request: web.Request) -> web.Response:
        scope = await document_scope(request, "update")
        invoice_id = path_id(request)
        body = await parse_body(request, InvoiceWrite)
        if body.status is not None:
            raise ValidationFailed.field("status", "Change the status with the action routes.")
        if body.paid_at is not None:
            raise ValidationFailed.field("paid_at", "Record payments with /pay.")
        invoice = await request.app[INVOICES].update(
            scope, invoice_id, body.draft(None), request.headers.get("If-Match"), kind=family.kind
        )
        return await _detailed(request, scope, invoice, family)

    return handle


def delete_invoice(family: Family) -> Any:
    async def handle(request: web.Request) -> web.Response:
        scope = await document_scope(request, "delete")
        invoice_id = path_id(request)
        await request.app[INVOICES].delete(
            scope, invoice_id, request.headers.get("If-Match"), kind=family.kind
        )
        return web.Response(status=204)

    return handle


# --- actions (on /invoices/{id}/...) ----------------------------------------------------


async def approve(request: web.Request) -> web.Response:
    scope = await document_scope(request, "update")
    invoice_id = path_id(request)
    body = await parse_body(request, ApproveBody)
    invoice = await request.app[INVOICES].approve(
        scope, invoice_id, body.approved_at, request.headers.get("If-Match")
    )
    await request.app[DOCUMENTS].render_after_approval(invoice)
    return await _detailed(request, scope, invoice, INVOICES_FAMILY)


async def send(request: web.Request) -> web.Response:
    scope = await document_scope(request, "send")
    invoice_id = path_id(request)
    body = await parse_body(request, SendBody)
    await request.app[INVOICES].send(
        scope, invoice_id, body.template, body.custom_message, request.headers.get("If-Match")
    )
    return json_response({"message": "Invoice email queued successfully."})


async def send_email(request: web.Request) -> web.Response:
    scope = await document_scope(request, "send")
    invoice_id = path_id(request)
    body = await parse_body(request, SendBody)
    _, addresses = await request.app[INVOICES].send(
        scope, invoice_id, "invoice-issued", body.custom_message, request.headers.get("If-Match")
    )
    return json_response({"message": f"Invoice sent to {', '.join(addresses)}"})


async def send_payment_link(request: web.Request) -> web.Response:
    scope = await document_scope(request, "send")
    await request.app[INVOICES].payment_link(scope, path_id(request))
    raise AssertionError("unreachable")  # pragma: no cover


async def pay(request: web.Request) -> web.Response:
    scope = await document_scope(request, "pay")
    invoice_id = path_id(request)
    body = await parse_body(request, PayBody)
    invoice = await request.app[INVOICES].pay(
        scope,
        invoice_id,
        body.amount,
        body.paid_date,
        body.reference,
        body.payment_method,
        request.headers.get("If-Match"),
    )
    return await _detailed(request, scope, invoice, INVOICES_FAMILY)


async def cancel(request: web.Request) -> web.Response:
    scope = await document_scope(request, "cancel")
    invoice = await request.app[INVOICES].cancel(
        scope, path_id(request), request.headers.get("If-Match")
    )
    return await _detailed(request, scope, invoice, INVOICES_FAMILY)


async def decline(request: web.Request) -> web.Response:
    scope = await document_scope(request, "update")
    invoice = await request.app[INVOICES].decline(
        scope, path_id(request), request.headers.get("If-Match")
    )
    return await _detailed(request, scope, invoice, INVOICES_FAMILY)


async def convert(request: web.Request) -> web.Response:
    scope = await document_scope(request, "create")
    invoice_id = path_id(request)
    body = await parse_body(request, ConvertBody)
    created = await request.app[INVOICES].convert(
        scope, invoice_id, body.type, body.model_dump(exclude_unset=True, exclude={"type"})
    )
    return await _detailed(request, scope, created, INVOICES_FAMILY, status=201)


async def convert_estimate(request: web.Request) -> web.Response:
    scope = await member_scope(request, "quotes:update")
    scope.identity.require("invoices:create")
    created = await request.app[INVOICES].convert(
        scope, path_id(request), "invoice", {}, kind="quote"
    )
    return json_response(
        {
            "data": {"invoice_id": created.id, "invoice_number": created.label},
            "message": "Estimate converted to invoice",
        },
        status=201,
    )


async def set_schedule_date(request: web.Request) -> web.Response:
    scope = await document_scope(request, "update")
    invoice_id = path_id(request)
    body = await parse_body(request, ScheduleBody)
    invoice = await request.app[INVOICES].set_schedule_date(
        scope, invoice_id, body.scheduled_date, body.due_now, request.headers.get("If-Match")
    )
    return await _detailed(request, scope, invoice, INVOICES_FAMILY)


async def set_due_date(request: web.Request) -> web.Response:
    scope = await document_scope(request, "update")
    invoice_id = path_id(request)
    body = await parse_body(request, DueDateBody)
    invoice = await request.app[INVOICES].set_due_date(
        scope, invoice_id, body.due_date, request.headers.get("If-Match")
    )
    return await _detailed(request, scope, invoice, INVOICES_FAMILY)


async def set_period(request: web.Request) -> web.Response:
    scope = await document_scope(request, "update")
    invoice_id = path_id(request)
    body = await parse_body(request, PeriodBody)
    invoice = await request.app[INVOICES].set_period(
        scope, invoice_id, body.period, request.headers.get("If-Match")
    )
    return await _detailed(request, scope, invoice, INVOICES_FAMILY)


async def list_members(request: web.Request) -> web.Response:
    scope = await document_scope(request, "read")
    detail = await request.app[INVOICES].detail(scope, path_id(request))
    return json_response({"data": detail.members})


async def set_members(request: web.Request) -> web.Response:
    scope = await document_scope(request, "update")
    invoice_id = path_id(request)
    body = await parse_body(request, MembersBody)
    members = await request.app[INVOICES].set_members(
        scope, invoice_id, [member.model_dump() for member in body.members]
    )
    return json_response({"data": members})


async def create_next(request: web.Request) -> web.Response:
    """Generate a recurring template's next period now and advance its next_run_date."""
    scope = await document_scope(request, "create")
    child = await request.app[RECURRING].create_next(scope, path_id(request))
    return await _detailed(request, scope, child, INVOICES_FAMILY, status=201)
