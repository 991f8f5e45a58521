"""The route table of billing-service (every path under /api/v1; the gateway adds /api): one
module per domain, each a list of operations (see shared.contract), all registered at once
so that no method and path is declared twice anywhere."""

from __future__ import annotations

from aiohttp import web

from billing_service.routes import companies, documents, invoices, resources, webhooks
from shared.contract import add_operations


def add_routes(app: web.Application) -> None:
    add_operations(
        app,
        [
            *companies.operations(),
            *resources.operations(),
            *documents.operations(),
            *webhooks.operations(),
            *invoices.operations(),
        ],
    )
