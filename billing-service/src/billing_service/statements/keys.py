"""The typed application key of customer statements."""

from __future__ import annotations

from aiohttp import web

from billing_service.statements.services.statements import Statements

STATEMENTS = web.AppKey("statements", Statements)
