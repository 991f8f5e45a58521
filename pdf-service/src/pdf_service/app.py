"""pdf-service: renders and stores invoice PDFs (rendering arrives with the documents issue).

For now it is a real service on the shared skeleton: its database and migrations, the ops
endpoints, and identity-JWT checking on everything else.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from pdf_service.keys import POOL, SETTINGS
from pdf_service.settings import Settings
from shared.db import check_pool, pool_context
from shared.identity import identity_middleware, verifier_context
from shared.logging import configure_logging
from shared.web import add_readiness_check, create_base_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings()
    configure_logging("pdf-service", settings.log_level, settings.log_json)
    app = create_base_app("pdf-service", middlewares=[identity_middleware()])
    app[SETTINGS] = settings
    app.cleanup_ctx.append(
        pool_context(POOL, lambda a: a[SETTINGS].database_url, migrations=MIGRATIONS)
    )
    app.cleanup_ctx.append(verifier_context(lambda a: a[SETTINGS].auth_jwks_url))
    add_readiness_check(app, "postgres", lambda a: check_pool(a[POOL]))
    return app
