"""The typed application keys of exports and imports."""

from __future__ import annotations

from aiohttp import web

from billing_service.exchange.services.exports import Exports
from billing_service.exchange.services.imports import Imports

EXPORTS = web.AppKey("exports", Exports)
IMPORTS = web.AppKey("imports", Imports)
