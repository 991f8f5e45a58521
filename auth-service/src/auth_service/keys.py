"""Every typed application key of auth-service."""

from __future__ import annotations

import asyncpg
import redis.asyncio as redis
from aiohttp import web

from auth_service.services.accounts import AccountService
from auth_service.services.signing import SigningKeys
from auth_service.services.tokens import TokenService
from auth_service.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", redis.Redis)
SIGNING_KEYS = web.AppKey("signing_keys", SigningKeys)
TOKENS = web.AppKey("tokens", TokenService)
ACCOUNTS = web.AppKey("accounts", AccountService)
