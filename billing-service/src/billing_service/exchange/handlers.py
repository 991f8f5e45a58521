"""Thin handlers of exports and imports: the query (and the file), the service, the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from billing_service.exchange.keys import EXPORTS, IMPORTS
from billing_service.exchange.schemas import ExportQuery, ImportQuery
from billing_service.exchange.views import ImportView, filename, row_cells
from billing_service.platform.csv_output import MEDIA_TYPE, csv_chunks, csv_rows
from billing_service.platform.handlers import data, member_scope
from shared.contract import query_of
from shared.errors import PayloadTooLarge
from shared.web import MAX_IMPORT_BYTES

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TOO_LARGE = f"An import file is at most {MAX_IMPORT_BYTES // (1024 * 1024)} MiB."


def export_handler(kind: str) -> Handler:
    async def export(request: web.Request) -> web.StreamResponse:
        scope = await member_scope(request, None)
        query = query_of(request, ExportQuery)
        exports = request.app[EXPORTS]
        company = await exports.company(scope, query.company_id)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        response = web.StreamResponse(
            headers={
                "Content-Type": f"{MEDIA_TYPE}; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{filename(kind, company, stamp)}"',
                "Cache-Control": "no-store",
            }
        )
        async with exports.rows(kind, company, query) as rows:
            await response.prepare(request)
            cells = row_cells(kind, rows.columns)
            await response.write(b"".join(csv_chunks(rows.columns, [])))  # the header
            async for batch in rows.batches():
                await response.write(csv_rows(map(cells, batch)))
        await response.write_eof()
        return response

    return export


def import_handler(kind: str) -> Handler:
    async def import_(request: web.Request) -> web.Response:
        scope = await member_scope(request, None)
        query = query_of(request, ImportQuery)
        imports = request.app[IMPORTS]
        company = await imports.company(scope, kind, query.company_id)
        outcome = await imports.run(
            scope, kind, company, await _file(request), dry_run=query.dry_run
        )
        view = ImportView(
            kind=outcome.kind,
            dry_run=outcome.dry_run,
            rows=outcome.rows,
            created=len(outcome.ids),
            ids=outcome.ids,
            ignored_columns=outcome.ignored_columns,
        )
        return data(view, status=200 if outcome.dry_run else 201)

    return import_


async def _file(request: web.Request) -> bytes:
    """The body, refused (413) as soon as it is larger than an import may be: its announced
    length, else while it is received (the request's own limit, platform.body_limits)."""
    if request.content_length is not None and request.content_length > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(TOO_LARGE)
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(TOO_LARGE) from None
