"""The route table of billing-service (every path under /api/v1; the gateway adds /api): one
module per domain, each a list of operations (see shared.contract)."""

from __future__ import annotations

from aiohttp import web

from billing_service.routes import invoices, resources


def add_routes(app: web.Application) -> None:
    resources.add_routes(app)
    invoices.add_routes(app)
