"""/api/v1/companies: CRUD; the creator becomes owner."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from billing_service.keys import COMPANIES
from billing_service.recurrence import is_timezone
from billing_service.repositories.companies import Company
from billing_service.schemas.fields import Currency, Text
from billing_service.services.companies import DEFAULT_CURRENCY
from shared.identity import require_ability
from shared.pagination import PageParams, paginated
from shared.validation import parse_body, parse_query, path_id
from shared.web import json_response

SLUG = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _timezone(value: str) -> str:
    if not is_timezone(value):
        raise ValueError("must be an IANA timezone such as Europe/Berlin")
    return value


Timezone = Annotated[str, Field(max_length=64), AfterValidator(_timezone)]


class CompanyCreate(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    name: Text = Field(min_length=1)
    slug: str | None = SLUG
    timezone: Timezone = "UTC"
    currency: Currency = DEFAULT_CURRENCY  # the last default of its invoices' currency


class CompanyUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    name: Text | None = Field(default=None, min_length=1)
    slug: str | None = SLUG
    timezone: Timezone | None = None
    currency: Currency | None = None


def company_view(company: Company) -> dict[str, Any]:
    return {
        "id": company.id,
        "name": company.name,
        "slug": company.slug,
        "timezone": company.timezone,
        "currency": company.currency,
        "role": company.role,
        "is_owner": company.role == "owner",
        "created_at": company.created_at,
        "updated_at": company.updated_at,
    }


async def list_companies(request: web.Request) -> web.Response:
    identity = require_ability(request, "companies:read")
    page = await request.app[COMPANIES].list(identity, parse_query(request, PageParams))
    page = type(page)([company_view(c) for c in page.items], page.total, page.params)
    return json_response(paginated(request, page))


async def get_company(request: web.Request) -> web.Response:
    identity = require_ability(request, "companies:read")
    company = await request.app[COMPANIES].get(identity, path_id(request))
    return json_response({"data": company_view(company)})


async def create_company(request: web.Request) -> web.Response:
    identity = require_ability(request, "companies:create")
    body = await parse_body(request, CompanyCreate)
    company = await request.app[COMPANIES].create(
        identity, body.name, body.slug, body.timezone, body.currency
    )
    return json_response({"data": company_view(company)}, status=201)


async def update_company(request: web.Request) -> web.Response:
    identity = require_ability(request, "companies:update")
    company_id = path_id(request)
    body = await parse_body(request, CompanyUpdate)
    company = await request.app[COMPANIES].update(
        identity, company_id, body.name, body.slug, body.timezone, body.currency
    )
    return json_response({"data": company_view(company)})


async def delete_company(request: web.Request) -> web.Response:
    identity = require_ability(request, "companies:delete")
    await request.app[COMPANIES].delete(identity, path_id(request))
    return web.Response(status=204)
