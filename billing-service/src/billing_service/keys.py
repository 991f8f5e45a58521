"""Every typed application key of billing-service."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from billing_service.services.companies import CompanyService
from billing_service.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
COMPANIES = web.AppKey("companies", CompanyService)
