"""Thin handlers of accounts receivable: the body, the service, the answer."""

from __future__ import annotations

from aiohttp import web

from billing_service.invoices.handlers import answered
from billing_service.invoices.keys import INVOICE_QUERIES
from billing_service.platform.handlers import data, scope_for
from billing_service.receivables.keys import CREDIT_NOTES, RECEIVED_PAYMENTS, REFUNDS
from billing_service.receivables.schemas import (
    ApplyCreditBody,
    CreditNoteBody,
    PaymentBody,
    PaymentFilters,
    RefundBody,
)
from billing_service.receivables.services.credit_notes import CreditNoteRequest
from billing_service.receivables.services.payments import Allocation, PaymentRequest
from billing_service.receivables.services.refunds import RefundRequest
from shared.contract import body_of, query_of
from shared.pagination import Page, paginated
from shared.validation import path_id
from shared.web import json_response


async def create_credit_note(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    body = await body_of(request, CreditNoteBody)
    items = [item.model_dump(exclude_unset=True) for item in body.items] if body.items else None
    wanted = CreditNoteRequest(body.reason, items, body.scheduled_date, body.notes)
    note = await request.app[CREDIT_NOTES].create(scope, path_id(request), wanted)
    detail = await request.app[INVOICE_QUERIES].detail(scope, note.id)
    return answered(request, scope, detail, status=201, message="Credit note created")


async def refund(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    body = await body_of(request, RefundBody)
    wanted = RefundRequest(body.amount, body.reason, body.payment_id, body.refunded_at)
    detail = await request.app[REFUNDS].refund(scope, path_id(request), wanted)
    return answered(request, scope, detail)


async def apply_credit(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    body = await body_of(request, ApplyCreditBody)
    detail = await request.app[REFUNDS].apply_credit(scope, path_id(request), body.amount)
    return answered(request, scope, detail)


async def customer_balance(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    return data(await request.app[RECEIVED_PAYMENTS].balance(scope, path_id(request)))


async def create_payment(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    body = await body_of(request, PaymentBody)
    wanted = PaymentRequest(
        body.customer_id,
        body.amount,
        body.currency,
        body.paid_date,
        body.payment_method,
        body.reference,
        [Allocation(a.invoice_id, a.amount) for a in body.allocations],
    )
    view = await request.app[RECEIVED_PAYMENTS].create(scope, wanted)
    return data(view, status=201)


async def list_payments(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    filters = query_of(request, PaymentFilters)
    items, total = await request.app[RECEIVED_PAYMENTS].page(scope, filters.customer_id, filters)
    return json_response(paginated(request, Page(items, total, filters)))


async def get_payment(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    return data(await request.app[RECEIVED_PAYMENTS].one(scope, path_id(request)))
