"""Every typed application key of pdf-service."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from pdf_service.services.documents import Documents
from pdf_service.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
DOCUMENTS = web.AppKey("documents", Documents)
