"""The route table of billing-service."""

from __future__ import annotations

from aiohttp import web

from billing_service.handlers import companies


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/companies", companies.list_companies)
    app.router.add_post("/api/v1/companies", companies.create_company)
    app.router.add_get("/api/v1/companies/{id}", companies.get_company)
    app.router.add_put("/api/v1/companies/{id}", companies.update_company)
    app.router.add_patch("/api/v1/companies/{id}", companies.update_company)
    app.router.add_delete("/api/v1/companies/{id}", companies.delete_company)
