"""pdf-service for its tests: the real app on a real database, one render worker."""

from __future__ import annotations

import pytest

from pdf_service.app import create_app
from pdf_service.settings import Settings

SECRET = {"X-Internal-Secret": "test-internal-secret-0123456789"}


@pytest.fixture
async def pdf(aiohttp_client, database_urls, jwks_url):
    settings = Settings(
        environment="test",
        database_url=database_urls["pdf"],
        auth_jwks_url=jwks_url,
        internal_secret=SECRET["X-Internal-Secret"],
        url_signing_secret="test-url-signing-secret-0123456789",
        render_workers=1,
        log_json=False,
    )
    return await aiohttp_client(create_app(settings))
