"""The typed application keys of the scheduling services."""

from __future__ import annotations

from aiohttp import web

from billing_service.scheduling.services.recurring import RecurringService
from billing_service.scheduling.services.scheduler import Scheduler

RECURRING = web.AppKey("recurring", RecurringService)
SCHEDULER = web.AppKey("scheduler", Scheduler)
