from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from billing_service.app import create_app
from billing_service.settings import Settings


@pytest.fixture
async def billing(aiohttp_client: Any, database_urls: dict[str, str], jwks_url: str) -> TestClient:
    settings = Settings(
        environment="test",
        database_url=database_urls["billing"],
        auth_jwks_url=jwks_url,
        log_json=False,
        log_level="WARNING",
    )
    client: TestClient = await aiohttp_client(create_app(settings))
    return client
