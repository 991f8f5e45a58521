"""The stack's gateway serves the committed snapshot of the public document: every service
serves its document to the gateway, and the document in review is the one deployed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack

SNAPSHOT = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


async def test_the_stack_serves_the_snapshot(stack, http) -> None:
    async with http.get(f"{stack.base_url}/api/v1/openapi.json") as response:
        assert response.status == 200
        served = await response.json()
    assert served == json.loads(SNAPSHOT.read_text()), (
        "run scripts/openapi-snapshot and commit docs/openapi.json (or a service does not "
        "serve its document at /internal/openapi.json)"
    )
