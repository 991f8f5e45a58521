"""The typed application keys of the events services."""

from __future__ import annotations

from aiohttp import web

from billing_service.events.services import EventLog

EVENTS = web.AppKey("events", EventLog)  # the event log every change writes to
