"""pdf-service renders nothing yet, but it is a real service: ops endpoints and identity checks."""

from __future__ import annotations

from pdf_service.app import create_app
from pdf_service.keys import POOL


async def test_requires_identity_and_serves_ops(aiohttp_client, pdf_settings, auth):
    client = await aiohttp_client(create_app(pdf_settings()))
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    response = await client.get("/documents/anything")
    assert response.status == 401
    assert (await response.json())["error_code"] == "UNAUTHORIZED"
    with_identity = await client.get("/documents/anything", headers=await auth.bearer())
    assert with_identity.status == 404  # authenticated, but no such route yet
    tables = await client.app[POOL].fetchval("SELECT to_regclass('documents')::text")
    assert tables == "documents"
