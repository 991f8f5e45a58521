"""The scheduling actions a caller starts by hand: a recurring template's next period now."""

from __future__ import annotations

from aiohttp import web

from billing_service.invoices.handlers import answered
from billing_service.platform.handlers import scope_for
from billing_service.scheduling.keys import RECURRING
from shared.validation import path_id


async def create_next(request: web.Request) -> web.Response:
    """Generate a recurring template's next period now and advance its next_run_date."""
    scope = await scope_for(request, None)
    child = await request.app[RECURRING].create_next(scope, path_id(request))
    return answered(request, scope, child, status=201)
