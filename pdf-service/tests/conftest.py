"""pdf-service for its tests: the real app on a real database, one render worker."""

from __future__ import annotations

import pytest

from pdf_service.app import create_app

SECRET = {"X-Internal-Secret": "test-internal-secret-0123456789"}


@pytest.fixture
async def pdf(aiohttp_client, pdf_settings):
    return await aiohttp_client(create_app(pdf_settings()))
