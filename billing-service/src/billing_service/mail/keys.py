"""The typed application keys of the mail services."""

from __future__ import annotations

from aiohttp import web

from billing_service.mail.services.mailer import Mailer

MAILER = web.AppKey("mailer", Mailer)
