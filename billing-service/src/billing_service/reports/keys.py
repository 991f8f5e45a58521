"""The typed application keys of the reports."""

from __future__ import annotations

from aiohttp import web

from billing_service.reports.services import Reports

REPORTS = web.AppKey("reports", Reports)
