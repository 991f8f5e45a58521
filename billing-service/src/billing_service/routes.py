"""The route table of billing-service (every path under /api/v1; the gateway adds /api): one
module per domain, each a list of operations (see shared.contract), all registered at once
so that no method and path is declared twice anywhere."""

from __future__ import annotations

from aiohttp import web

from billing_service.companies import routes as companies
from billing_service.documents import routes as documents
from billing_service.dunning import routes as dunning
from billing_service.exchange import routes as exchange
from billing_service.invoices import routes as invoices
from billing_service.parties import routes as parties
from billing_service.receivables import routes as receivables
from billing_service.reports import routes as reports
from billing_service.scheduling import routes as scheduling
from billing_service.statements import routes as statements
from billing_service.webhooks import routes as webhooks
from shared.contract import add_operations


def add_routes(app: web.Application) -> None:
    add_operations(
        app,
        [
            *companies.operations(),
            *parties.operations(),
            *documents.operations(),
            *webhooks.operations(),
            *invoices.operations(),
            *scheduling.operations(),
            *receivables.operations(),
            *dunning.operations(),
            *statements.operations(),
            *reports.operations(),
            *exchange.operations(),
        ],
    )
