"""Thin handlers of the reports: the query, the service, the answer as JSON or CSV."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from aiohttp import web

from billing_service.platform.csv_output import MEDIA_TYPE, Cell, csv_document
from billing_service.platform.handlers import data, scope_for
from billing_service.reports.keys import REPORTS
from billing_service.reports.schemas import AgingQuery, ReportQuery, RevenueQuery, TaxQuery
from billing_service.reports.views import (
    AGING_COLUMNS,
    REVENUE_COLUMNS,
    TAX_COLUMNS,
    aging_rows,
    revenue_rows,
    tax_rows,
)
from shared.contract import query_of
from shared.models import View

ReportT = TypeVar("ReportT", bound=View)


async def aging(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    query = query_of(request, AgingQuery)
    report = await request.app[REPORTS].aging(scope, query)
    return _answer(request, query, report, "aging", AGING_COLUMNS, aging_rows)


async def tax(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    query = query_of(request, TaxQuery)
    report = await request.app[REPORTS].tax(scope, query)
    return _answer(request, query, report, "tax", TAX_COLUMNS, tax_rows)


async def revenue(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    query = query_of(request, RevenueQuery)
    report = await request.app[REPORTS].revenue(scope, query)
    return _answer(request, query, report, "revenue", REVENUE_COLUMNS, revenue_rows)


def _answer(
    request: web.Request,
    query: ReportQuery,
    report: ReportT,
    name: str,
    columns: Sequence[str],
    rows: Callable[[ReportT], Iterator[Sequence[Cell]]],
) -> web.Response:
    """CSV when `?format=csv` or the Accept header asks for it (and `?format=json` does not
    override it), else the JSON envelope."""
    if not wants_csv(request, query):
        return data(report)
    return web.Response(
        body=csv_document(columns, rows(report)),
        content_type=MEDIA_TYPE,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-report.csv"'},
    )


def wants_csv(request: web.Request, query: ReportQuery) -> bool:
    if query.format is not None:
        return query.format == "csv"
    accepted = request.headers.get("Accept", "")
    return any(part.split(";")[0].strip() == MEDIA_TYPE for part in accepted.split(","))
