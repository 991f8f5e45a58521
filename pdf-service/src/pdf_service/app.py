"""pdf-service: renders invoice PDFs from snapshots, stores them by content hash, and serves
them through signed, expiring links. It calls no other service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from pdf_service.keys import DOCUMENTS, POOL, SETTINGS
from pdf_service.render import render_invoice, render_pool
from pdf_service.routes import add_routes, is_public
from pdf_service.services.documents import Documents
from pdf_service.settings import Settings
from shared.db import check_pool, pool_context
from shared.identity import identity_middleware, verifier_context
from shared.logging import configure_logging
from shared.openapi import add_document_route
from shared.web import add_readiness_check, create_base_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def _renderer(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    pool = render_pool(settings.render_workers)
    loop = asyncio.get_running_loop()
    # Start every worker now (fonts loaded, code imported), not on the first request.
    await asyncio.gather(
        *(
            loop.run_in_executor(pool, render_invoice, {"label": "warm-up"})
            for _ in range(settings.render_workers)
        )
    )
    app[DOCUMENTS] = Documents(
        app[POOL],
        pool,
        settings.url_signing_secret.get_secret_value().encode(),
        settings.link_ttl_seconds,
    )
    yield
    pool.shutdown(wait=False, cancel_futures=True)


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings()
    configure_logging("pdf-service", settings.log_level, settings.log_json)
    app = create_base_app("pdf-service", middlewares=[identity_middleware(is_public)])
    app[SETTINGS] = settings
    app.cleanup_ctx.append(
        pool_context(POOL, lambda a: a[SETTINGS].database_url, migrations=MIGRATIONS)
    )
    app.cleanup_ctx.append(verifier_context(lambda a: a[SETTINGS].auth_jwks_url))
    app.cleanup_ctx.append(_renderer)
    add_readiness_check(app, "postgres", lambda a: check_pool(a[POOL]))
    add_routes(app)
    add_document_route(app, title="pdf-service")
    return app
