"""auth-service asks its app's clock for the current instant: token lifetimes, the identity
JWT's issue time and the future-date check all follow it (no patching of datetime)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from auth_service.app import create_app
from auth_service.keys import ACCOUNTS, TOKENS
from shared.errors import TokenExpired

# Years from now: a real clock could not pass for it by accident.
MOMENT = datetime(2040, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def standing(aiohttp_client, auth_settings):
    """auth-service whose clock stands at `now[0]`, and a user of it."""
    now = [MOMENT]
    client = await aiohttp_client(create_app(auth_settings, clock=lambda: now[0]))
    email = f"clock-{uuid.uuid4().hex[:10]}@example.com"
    await client.app[ACCOUNTS].create_user(email=email, password="clock-pass-1", name="Clock User")
    creds = {"email": email, "password": "clock-pass-1", "device_name": "clock"}
    return client, now, creds


async def test_a_token_lives_by_the_apps_clock(standing):
    client, now, creds = standing
    response = await client.post("/api/v1/tokens", json=creds | {"expires_in_days": 1})
    body = await response.json()
    assert response.status == 201, body
    assert body["expires_at"] == "2040-03-02T12:00:00Z"
    tokens = client.app[TOKENS]
    identity = await tokens.introspect(body["token"])
    claims = jwt.decode(identity.identity_jwt, options={"verify_signature": False})
    assert claims["iat"] == int(MOMENT.timestamp())
    assert claims["exp"] <= int((MOMENT + timedelta(days=1)).timestamp())
    now[0] = MOMENT + timedelta(days=1)
    with pytest.raises(TokenExpired):
        await tokens.introspect(body["token"])


async def test_an_expiry_before_the_apps_now_is_refused(standing):
    client, _, creds = standing
    past_for_the_app = "2039-12-31T00:00:00Z"  # still ahead of any real clock today
    response = await client.post("/api/v1/tokens", json=creds | {"expires_at": past_for_the_app})
    answer = await response.json()
    assert response.status == 422, answer
    assert answer["errors"] == {
        "expires_at": ["The expires at field must be a date-time in the future."]
    }
    later = await client.post("/api/v1/tokens", json=creds | {"expires_at": "2040-03-01T12:00:01"})
    assert later.status == 201, await later.text()
    assert (await later.json())["expires_at"] == "2040-03-01T12:00:01Z"
