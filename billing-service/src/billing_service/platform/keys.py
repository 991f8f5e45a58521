"""The typed application keys of the resources every domain shares; each domain declares
the keys of its own services in its keys.py."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from billing_service.platform.auth_client import AuthClient
from billing_service.platform.loops import BackgroundLoop
from billing_service.platform.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
AUTH = web.AppKey("auth", AuthClient)
LOOPS = web.AppKey("loops", dict[str, BackgroundLoop])  # by name, the running ones
