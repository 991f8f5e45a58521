"""/api/v1/companies/{id}/reminders."""

from __future__ import annotations

from aiohttp import web

from billing_service.dunning.keys import REMINDER_SETTINGS
from billing_service.dunning.schemas import ReminderSettingsBody
from billing_service.dunning.views import ReminderSettingsView
from billing_service.platform.handlers import data
from shared.contract import body_of
from shared.identity import identity_of
from shared.validation import path_id


async def get_reminders(request: web.Request) -> web.Response:
    settings = await request.app[REMINDER_SETTINGS].get(identity_of(request), path_id(request))
    return data(ReminderSettingsView.of(settings))


async def put_reminders(request: web.Request) -> web.Response:
    body = await body_of(request, ReminderSettingsBody)
    settings = await request.app[REMINDER_SETTINGS].put(
        identity_of(request), path_id(request), body
    )
    return data(ReminderSettingsView.of(settings))
