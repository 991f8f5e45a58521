"""The typed application keys of automatic reminders."""

from __future__ import annotations

from aiohttp import web

from billing_service.dunning.services.reminders import Reminders
from billing_service.dunning.services.settings import ReminderSettings

REMINDER_SETTINGS = web.AppKey("reminder_settings", ReminderSettings)
REMINDERS = web.AppKey("reminders", Reminders)
