"""auth-service: users, profiles, personal access tokens, identity JWTs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as redis
from aiohttp import web

from auth_service.keys import ACCOUNTS, POOL, REDIS, SETTINGS, SIGNING_KEYS, TOKENS
from auth_service.routes import add_routes, is_public
from auth_service.services.accounts import AccountService
from auth_service.services.passwords import PasswordHasher
from auth_service.services.signing import SigningKeys
from auth_service.services.throttle import LoginThrottle
from auth_service.services.tokens import TokenService
from auth_service.settings import Settings
from shared.clock import CLOCK, Clock, system_clock
from shared.db import check_pool, pool_context
from shared.identity import VERIFIER, IdentityVerifier, identity_middleware
from shared.logging import configure_logging, get_logger
from shared.openapi import add_document_route
from shared.redis_client import redis_context
from shared.web import add_readiness_check, create_base_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

log = get_logger("auth.app")


async def _services(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    keys = await SigningKeys.load_or_create(app[POOL])
    app[SIGNING_KEYS] = keys

    async def own_jwks() -> dict[str, Any]:
        return keys.jwks()

    app[VERIFIER] = IdentityVerifier(own_jwks)
    app[ACCOUNTS] = account_service(settings, app[POOL], app[REDIS])
    tokens = TokenService(app[POOL], app[REDIS], keys, settings, app[CLOCK])
    app[TOKENS] = tokens
    await _seed_demo_user(app)
    flusher = asyncio.create_task(tokens.flush_usage_forever())
    yield
    flusher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await flusher
    await tokens.flush_usage()


def account_service(
    settings: Settings, pool: asyncpg.Pool, redis_client: redis.Redis
) -> AccountService:
    """Accounts as the service and its command line use them."""
    throttle = LoginThrottle(
        redis_client, settings.failed_login_limit, settings.failed_login_window_seconds
    )
    return AccountService(pool, PasswordHasher.from_settings(settings), throttle)


async def _seed_demo_user(app: web.Application) -> None:
    settings = app[SETTINGS]
    if not settings.demo_user_email or settings.demo_user_password is None:
        return
    password = settings.demo_user_password.get_secret_value()
    user, created = await app[ACCOUNTS].ensure_user(
        email=settings.demo_user_email, password=password, name=settings.demo_user_name
    )
    shown = password if settings.is_development else "(from DEMO_USER_PASSWORD)"
    # Printed on purpose: the README's walkthrough starts from this account.
    print(
        f"Demo account {'created' if created else 'ready'}: email={user.email} "
        f"password={shown} (user id {user.id})",
        flush=True,
    )


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> web.Application:
    """`clock` is the source of the current instant (tests stand at a moment of their own)."""
    settings = settings or Settings()
    configure_logging("auth-service", settings.log_level, settings.log_json)
    app = create_base_app("auth-service", middlewares=[identity_middleware(is_public)])
    app[SETTINGS] = settings
    app[CLOCK] = clock or system_clock
    app.cleanup_ctx.append(
        pool_context(POOL, lambda a: a[SETTINGS].database_url, migrations=MIGRATIONS)
    )
    app.cleanup_ctx.append(redis_context(REDIS, lambda a: a[SETTINGS].redis_url))
    app.cleanup_ctx.append(_services)
    add_readiness_check(app, "postgres", lambda a: check_pool(a[POOL]))
    add_routes(app)
    add_document_route(app, title="auth-service")
    return app
