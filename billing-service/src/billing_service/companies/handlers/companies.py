"""/api/v1/companies: CRUD; the creator becomes owner."""

from __future__ import annotations

from aiohttp import web

from billing_service.companies.keys import COMPANIES
from billing_service.companies.schemas import CompanyCreate, CompanyUpdate
from billing_service.companies.views import CompanyView
from billing_service.platform.handlers import data, no_content, page_response
from shared.contract import body_of, query_of
from shared.identity import identity_of
from shared.pagination import Page, PageParams
from shared.validation import path_id


async def list_companies(request: web.Request) -> web.Response:
    identity = identity_of(request)
    page = await request.app[COMPANIES].list(identity, query_of(request, PageParams))
    shown = [CompanyView.of(company) for company in page.items]
    return page_response(request, Page(shown, page.total, page.params))


async def get_company(request: web.Request) -> web.Response:
    identity = identity_of(request)
    return data(CompanyView.of(await request.app[COMPANIES].get(identity, path_id(request))))


async def create_company(request: web.Request) -> web.Response:
    identity = identity_of(request)
    body = await body_of(request, CompanyCreate)
    company = await request.app[COMPANIES].create(
        identity, body.name, body.slug, body.timezone, body.currency, body.einvoice_format
    )
    return data(CompanyView.of(company), status=201)


async def update_company(request: web.Request) -> web.Response:
    identity = identity_of(request)
    company_id = path_id(request)
    body = await body_of(request, CompanyUpdate)
    company = await request.app[COMPANIES].update(
        identity,
        company_id,
        body.name,
        body.slug,
        body.timezone,
        body.currency,
        body.einvoice_change(),
    )
    return data(CompanyView.of(company))


async def delete_company(request: web.Request) -> web.Response:
    await request.app[COMPANIES].delete(identity_of(request), path_id(request))
    return no_content()
