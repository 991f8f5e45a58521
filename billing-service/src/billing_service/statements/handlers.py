"""Thin handlers of customer statements: the query or body, the service, the answer (JSON,
or the PDF for `Accept: application/pdf`)."""

from __future__ import annotations

from aiohttp import web

from billing_service.platform.handlers import data, scope_for
from billing_service.statements.keys import STATEMENTS
from billing_service.statements.schemas import SendStatementBody, StatementQuery
from billing_service.statements.services.statements import Period
from shared.contract import body_of, query_of
from shared.validation import path_id
from shared.web import json_response

PDF = "application/pdf"


async def statement(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    query = query_of(request, StatementQuery)
    wanted = Period(query.date_from, query.date_to, query.currency)
    statements = request.app[STATEMENTS]
    if PDF in request.headers.get("Accept", ""):
        body, filename = await statements.pdf(scope, path_id(request), wanted)
        return web.Response(
            body=body,
            content_type=PDF,
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "private, no-store",
            },
        )
    return data((await statements.statement(scope, path_id(request), wanted)).view)


async def send(request: web.Request) -> web.Response:
    scope = await scope_for(request, None)
    body = await body_of(request, SendStatementBody)
    wanted = Period(body.date_from, body.date_to, body.currency)
    sent = await request.app[STATEMENTS].send(scope, path_id(request), wanted, body.custom_message)
    count = len(sent.addresses)
    message = f"Statement queued to {count} address{'es' if count != 1 else ''}"
    return json_response({"data": sent, "message": message}, status=202)
