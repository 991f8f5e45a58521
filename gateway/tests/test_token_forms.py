"""Every form of a token (`<id>|<secret>` and the bare `<secret>`) is one credential at the
gateway: revoked on the very next request whichever way it was revoked, never a 500."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from shared.tokens import hash_secret

INTERNAL = {"X-Internal-Secret": "test-internal-secret-0123456789"}


def forms(token: str) -> dict[str, dict[str, str]]:
    """The Authorization headers of both forms a client may send the token in."""
    bare = token.split("|", 1)[1]
    return {
        "with_id": {"Authorization": f"Bearer {token}"},
        "bare": {"Authorization": f"Bearer {bare}"},
    }


async def _statuses(client, token: str) -> dict[str, int]:
    return {
        name: (await client.get("/api/v1/x", headers=headers)).status
        for name, headers in forms(token).items()
    }


async def _delete_own_token(client, auth, user, headers):
    response = await client.delete(f"/api/v1/tokens/{user.token_id}", headers=headers)
    assert response.status == 204


async def _logout(client, auth, user, headers):
    response = await client.post("/api/v1/logout", headers=headers)
    assert response.status == 200


async def _delete_other_token(client, auth, user, headers):
    """Revoked from another token of the same user (one with the tokens:delete ability)."""
    from auth_service.keys import TOKENS

    other = await auth.app[TOKENS].issue(
        user_id=user.id, name="admin", abilities=["tokens:delete"], expires_at=None
    )
    response = await client.delete(
        f"/api/v1/tokens/{user.token_id}",
        headers={"Authorization": f"Bearer {other.plain_text}"},
    )
    assert response.status == 204


async def _delete_user(client, auth, user, headers):
    """The user is deleted (billing undoing a client invitation): every token goes."""
    async with aiohttp.ClientSession() as http:
        url = f"{auth.url}/internal/users/{user.id}"
        async with http.delete(url, headers=INTERNAL) as response:
            assert response.status == 204


REVOCATIONS = {
    "delete_own_token": _delete_own_token,
    "logout": _logout,
    "delete_from_another_token": _delete_other_token,
    "delete_user": _delete_user,
}


@pytest.mark.parametrize("revoke_with", ["with_id", "bare"])
@pytest.mark.parametrize("path", list(REVOCATIONS))
async def test_every_form_is_refused_on_the_next_request_after_revocation(
    gateway, auth, path, revoke_with
):
    client = await gateway()
    user = await auth.user()
    # Both forms are accepted, and both are now in the gateway's identity cache.
    assert await _statuses(client, user.token) == {"with_id": 200, "bare": 200}
    await REVOCATIONS[path](client, auth, user, forms(user.token)[revoke_with])
    assert await _statuses(client, user.token) == {"with_id": 401, "bare": 401}


async def test_both_forms_share_one_cache_entry_that_ends_before_the_token_expires(
    gateway, auth, redis_client
):
    """Expiry needs no tombstone: the one entry lives at most until the token's expiry, which
    holds for every form because there is only one."""
    client = await gateway()
    expires_at = datetime.now(UTC) + timedelta(seconds=120)
    user = await auth.user(expires_at=expires_at)
    assert await _statuses(client, user.token) == {"with_id": 200, "bare": 200}
    secret_hash = hash_secret(user.token.split("|", 1)[1])
    keys = [key.decode() async for key in redis_client.scan_iter(f"tok:*{secret_hash}*")]
    assert keys == [f"tok:{secret_hash}"]
    ttl_ms = await redis_client.pttl(keys[0])
    assert 0 < ttl_ms <= (expires_at.timestamp() - time.time()) * 1000


async def test_an_id_that_is_not_the_tokens_is_refused_without_locking_the_token_out(gateway, auth):
    client = await gateway()
    user = await auth.user()
    secret = user.token.split("|", 1)[1]
    wrong = {"Authorization": f"Bearer {user.token_id + 1000}|{secret}"}
    # Before the token is cached, and once it is: the wrong id never passes, and never
    # poisons the cache for the right forms.
    assert (await client.get("/api/v1/x", headers=wrong)).status == 401
    assert await _statuses(client, user.token) == {"with_id": 200, "bare": 200}
    assert (await client.get("/api/v1/x", headers=wrong)).status == 401
    assert await _statuses(client, user.token) == {"with_id": 200, "bare": 200}


@pytest.mark.parametrize(
    "token", ["²|abc", "\u0661\u0662|abc", "1²|abc", "0" * 19 + "|abc", "+1|abc"]
)
async def test_a_token_id_that_is_not_ascii_digits_is_a_limited_401(gateway, token):
    client = await gateway(rate_limit_unauthenticated=2)
    headers = {"Authorization": f"Bearer {token}"}
    statuses = []
    for _ in range(3):
        response = await client.get("/api/v1/x", headers=headers)
        statuses.append(response.status)
        assert response.content_type == "application/json"
    # Counted against the client's anonymous bucket like any other bad token.
    assert statuses == [401, 401, 429]
    assert "X-RateLimit-Limit" in response.headers


def _introspections(client) -> float:
    from shared.web import METRICS_REGISTRY

    return client.app[METRICS_REGISTRY].get_sample_value("gateway_introspections_total") or 0.0


@pytest.mark.parametrize("shape", ["{n}{secret}", "{n}|{secret}"])
async def test_unknown_tokens_cost_no_introspection_past_the_anonymous_limit(gateway, shape):
    client = await gateway(rate_limit_unauthenticated=3)
    before = _introspections(client)
    statuses = []
    for n in range(10):
        token = shape.format(n=n + 1, secret=os.urandom(20).hex())
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        statuses.append(response.status)
    assert statuses == [401] * 3 + [429] * 7
    # Only the three admitted guesses reached auth-service.
    assert _introspections(client) - before == 3


async def test_a_token_that_is_not_utf8_is_a_limited_401(gateway):
    client = await gateway(rate_limit_unauthenticated=2)
    statuses = []
    for secret in (b"\xff", b"1|\xff\xfe", b"\xc3("):
        reader, writer = await asyncio.open_connection(client.host, client.port)
        writer.write(
            b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + secret
            + b"\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        statuses.append(int(status_line.split()[1]))
    assert statuses == [401, 401, 429]
