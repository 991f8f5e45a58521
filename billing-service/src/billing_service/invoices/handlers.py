"""/invoices (every type), /quotes (INNOVATECH) and /estimates (InvoiceFlow): one set of
handlers, parameterised by the route family's ability and the type it shows. The ability is
checked before a handler runs (routes.invoices declares it); handlers load the caller's scope,
read the declared body, call a service and shape the answer (ETag and If-Match are theirs)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from billing_service.invoices.keys import (
    CONVERSIONS,
    INVOICE_ACTIONS,
    INVOICE_EDITS,
    INVOICE_QUERIES,
)
from billing_service.invoices.lifecycle import OVERDUE, STATUSES
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.invoices.repositories.invoices import Invoice
from billing_service.invoices.repositories.listing import ListQuery
from billing_service.invoices.schemas import (
    ApproveBody,
    ConvertBody,
    DueDateBody,
    InvoiceUpdate,
    InvoiceWrite,
    ListFilters,
    MembersBody,
    PayBody,
    PeriodBody,
    ScheduleBody,
    SendBody,
    SendEmailBody,
)
from billing_service.invoices.services.actions import Payment
from billing_service.invoices.services.records import etag
from billing_service.invoices.views.mapping import (
    client_invoice_view,
    invoice_members,
    invoice_view,
    statuses_for_portal_word,
)
from billing_service.invoices.views.models import ConvertedEstimate, Message
from billing_service.platform.handlers import scope_for
from billing_service.platform.scope import Scope
from shared.contract import Handler, body_of, query_of
from shared.errors import ValidationFailed
from shared.identity import identity_of
from shared.pagination import Page, PageParams, paginated, public_base_url
from shared.validation import path_id
from shared.web import json_response


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


def _if_match(request: web.Request) -> str | None:
    return request.headers.get("If-Match")


def _status_filter(family: Family, status: str | None) -> str | None:
    if status is None:
        return None
    if family.estimate and status == "rejected":
        return "declined"
    if status != OVERDUE and status not in STATUSES:
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


def _view(request: web.Request, invoice: Invoice, family: Family, **extra: Any) -> Any:
    view = client_invoice_view if identity_of(request).kind == "client" else invoice_view
    return view(invoice, public_base_url(request), estimate=family.estimate, **extra)


def answered(
    request: web.Request,
    scope: Scope,
    detail: InvoiceDetail,
    family: Family = INVOICES_FAMILY,
    *,
    status: int = 200,
    message: str | None = None,
) -> web.Response:
    """The record in full as the caller may see it, with its ETag, from the snapshot the
    service loaded (for an action: in its transaction, the one its event carries)."""
    if scope.is_client:  # the company's own history and members are not a client's
        detail = replace(detail, history=[], members=[])
    payload: dict[str, Any] = {"data": _view(request, detail.invoice, family, detail=detail)}
    if message:
        payload["message"] = message
    return json_response(payload, status=status, headers={"ETag": etag(detail.invoice)})


async def _detailed(
    request: web.Request, scope: Scope, invoice: Invoice, family: Family, **answer: Any
) -> web.Response:
    """The record in full, read after its change committed (a create, a conversion)."""
    detail = await request.app[INVOICE_QUERIES].detail(scope, invoice.id, kind=family.kind)
    return answered(request, scope, detail, family, **answer)


def list_invoices(route_family: Family) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        family = _shown(request, route_family)
        scope = await scope_for(request, None)
        filters = query_of(request, ListFilters)
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
        result = await request.app[INVOICE_QUERIES].list_page(scope, query)
        items = [_view(request, row.invoice, family, listed=row) for row in result.items]
        payload = paginated(request, Page(items, result.total, result.params))
        payload["meta"] |= {"next_cursor": result.next_cursor, "total_capped": result.total_capped}
        return json_response(payload)

    return handle


def get_invoice(route_family: Family) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        family = _shown(request, route_family)
        scope = await scope_for(request, None)
        invoice_id = path_id(request)
        detail = await request.app[INVOICE_QUERIES].detail(scope, invoice_id, kind=family.kind)
        return json_response(
            {"data": _view(request, detail.invoice, family, detail=detail)},
            headers={"ETag": etag(detail.invoice)},
        )

    return handle


def create_invoice(family: Family) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        scope = await scope_for(request, None)
        body = await body_of(request, InvoiceWrite)
        invoice = await request.app[INVOICE_EDITS].create(scope, body.draft(family.kind))
        noun = "Estimate" if family.estimate else invoice.type.capitalize()
        return await _detailed(
            request, scope, invoice, family, status=201, message=f"{noun} created"
        )

    return handle


def update_invoice(family: Family) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        scope = await scope_for(request, None)
        invoice_id = path_id(request)
        body = await body_of(request, InvoiceUpdate)
        if body.status is not None:
            raise ValidationFailed.field("status", "Change the status with the action routes.")
        if body.paid_at is not None:
            raise ValidationFailed.field("paid_at", "Record payments with /pay.")
        updated = await request.app[INVOICE_EDITS].update(
            scope, invoice_id, body.draft(None), _if_match(request), kind=family.kind
        )
        return answered(request, scope, updated, family)

    return handle


def delete_invoice(family: Family) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        scope = await scope_for(request, None)
        invoice_id = path_id(request)
        await request.app[INVOICE_EDITS].delete(
            scope, invoice_id, _if_match(request), kind=family.kind
        )
        return web.Response(status=204)

    return handle


# --- actions (on /invoices/{id}/...) ----------------------------------------------------


async def approve(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    invoice_id = path_id(request)
    body = await body_of(request, ApproveBody)
    changed = await request.app[INVOICE_ACTIONS].approve(
        scope, invoice_id, body.approved_at, _if_match(request)
    )
    return answered(request, scope, changed)


async def send(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    invoice_id = path_id(request)
    body = await body_of(request, SendBody)
    await request.app[INVOICE_ACTIONS].send(
        scope, invoice_id, body.template, body.custom_message, _if_match(request)
    )
    return json_response(Message(message="Invoice email queued successfully.").model_dump())


async def send_email(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    invoice_id = path_id(request)
    body = await body_of(request, SendEmailBody)
    addresses = await request.app[INVOICE_ACTIONS].send(
        scope, invoice_id, "invoice-issued", body.custom_message, _if_match(request)
    )
    return json_response(Message(message=f"Invoice sent to {', '.join(addresses)}").model_dump())


async def send_payment_link(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    await request.app[INVOICE_ACTIONS].payment_link(scope, path_id(request))
    raise AssertionError("unreachable")  # pragma: no cover


async def pay(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    invoice_id = path_id(request)
    body = await body_of(request, PayBody)
    payment = Payment(body.amount, body.paid_date, body.reference, body.payment_method)
    changed = await request.app[INVOICE_ACTIONS].pay(scope, invoice_id, payment, _if_match(request))
    return answered(request, scope, changed)


async def cancel(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    changed = await request.app[INVOICE_ACTIONS].cancel(scope, path_id(request), _if_match(request))
    return answered(request, scope, changed)


async def decline(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    changed = await request.app[INVOICE_ACTIONS].decline(
        scope, path_id(request), _if_match(request)
    )
    return answered(request, scope, changed)


async def convert(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    invoice_id = path_id(request)
    body = await body_of(request, ConvertBody)
    created = await request.app[CONVERSIONS].convert(
        scope, invoice_id, body.type, body.model_dump(exclude_unset=True, exclude={"type"})
    )
    return await _detailed(request, scope, created, INVOICES_FAMILY, status=201)


async def convert_estimate(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    created = await request.app[CONVERSIONS].convert(
        scope, path_id(request), "invoice", {}, kind="quote"
    )
    answer = ConvertedEstimate(invoice_id=created.id, invoice_number=created.label)
    return json_response(
        {"data": answer, "message": "Estimate converted to invoice"},
        status=201,
    )


async def set_schedule_date(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    invoice_id = path_id(request)
    body = await body_of(request, ScheduleBody)
    changed = await request.app[INVOICE_ACTIONS].set_schedule_date(
        scope, invoice_id, body.scheduled_date, body.due_now, _if_match(request)
    )
    return answered(request, scope, changed)


async def set_due_date(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    invoice_id = path_id(request)
    body = await body_of(request, DueDateBody)
    changed = await request.app[INVOICE_ACTIONS].set_due_date(
        scope, invoice_id, body.due_date, _if_match(request)
    )
    return answered(request, scope, changed)


async def set_period(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    invoice_id = path_id(request)
    body = await body_of(request, PeriodBody)
    changed = await request.app[INVOICE_ACTIONS].set_period(
        scope, invoice_id, body.period, _if_match(request)
    )
    return answered(request, scope, changed)


async def list_members(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    members = await request.app[INVOICE_QUERIES].members(scope, path_id(request))
    return json_response({"data": invoice_members(members)})


async def set_members(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    invoice_id = path_id(request)
    body = await body_of(request, MembersBody)
    members = await request.app[INVOICE_EDITS].set_members(
        scope, invoice_id, [member.model_dump() for member in body.members]
    )
    return json_response({"data": invoice_members(members)})
