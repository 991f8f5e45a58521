"""What InvoiceFlow's customers (and InvoisX's buyers) do differently from /recipients: a
create may leave the organisation out, one customer shows their recent activity, and a
delete archives a customer their invoices still name."""

from __future__ import annotations

from aiohttp import web

from billing_service.parties.keys import RECIPIENTS
from billing_service.parties.schemas.recipients import CustomerCreate
from billing_service.parties.views import CustomerDetailView, CustomerView
from billing_service.platform.handlers import data, member_scope, no_content
from shared.contract import body_of
from shared.validation import path_id
from shared.web import json_response


async def create_customer(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    body = await body_of(request, CustomerCreate)
    service = request.app[RECIPIENTS]
    # Without an organisation (or with a null one), the company's default one holds it.
    values = body.changes("organisation_id") | {"organisation_id": body.organisation_id}
    row = (await service.shown([await service.create(scope, body.company_id, values)]))[0]
    return json_response({"data": CustomerView.of(row), "message": "Customer created"}, status=201)


async def get_customer(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    service = request.app[RECIPIENTS]
    row = (await service.shown([await service.get(scope, path_id(request))]))[0]
    invoices, payments = await service.recent_activity(scope, row["id"])
    return data(CustomerDetailView.with_activity(row, invoices, payments))


async def archive_customer(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    await request.app[RECIPIENTS].archive(scope, path_id(request))
    return no_content()
