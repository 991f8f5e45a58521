"""The gateway's authentication and exact rate limits: 401s, expired and revoked tokens, limits per
user and per IP, the token cache's Redis round trips, and Redis going down."""

from __future__ import annotations

import asyncio

import pytest

from .request_helpers import bearer


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic x"},
        {"Authorization": "Bearer 1|nope"},
        {"Authorization": "Bearer 12x|abc"},
    ],
)
async def test_missing_or_bad_token_is_401_with_limit_headers(gateway, headers):
    client = await gateway()
    response = await client.get("/api/v1/companies", headers=headers)
    assert response.status == 401
    assert await response.json() == {
        "success": False,
        "error": "unauthorized",
        "message": "Unauthenticated.",
        "error_code": "UNAUTHORIZED",
    }
    assert response.headers["RateLimit-Policy"] == '"unauthenticated";q=60;w=60'


async def test_expired_token_is_token_expired(gateway, auth):
    from datetime import UTC, datetime, timedelta

    from auth_service.keys import POOL

    client = await gateway()
    user = await auth.user(expires_at=datetime.now(UTC) + timedelta(days=1))
    await auth.app[POOL].execute(
        "UPDATE personal_access_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1",
        user.token_id,
    )
    response = await client.get("/api/v1/companies", headers=bearer(user.token))
    assert response.status == 401
    assert (await response.json())["error_code"] == "TOKEN_EXPIRED"


async def test_exactly_the_limit_is_admitted_then_429(gateway, auth):
    client = await gateway(rate_limit_default=5)
    user = await auth.user()
    responses = [await client.get("/api/v1/x", headers=bearer(user.token)) for _ in range(8)]
    assert [r.status for r in responses] == [200] * 5 + [429] * 3
    assert [r.headers["X-RateLimit-Remaining"] for r in responses[:5]] == ["4", "3", "2", "1", "0"]
    refused = responses[5]
    assert await refused.json() == {
        "success": False,
        "error": "rate_limited",
        "message": "Too Many Attempts.",
        "error_code": "RATE_LIMITED",
    }
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit"].startswith('"default";r=0;t=')
    assert refused.headers["RateLimit-Policy"] == '"default";q=5;w=60'


async def test_concurrent_requests_never_exceed_the_limit(gateway, auth):
    client = await gateway(rate_limit_default=50)
    user = await auth.user()
    responses = await asyncio.gather(
        *(client.get("/api/v1/x", headers=bearer(user.token)) for _ in range(200))
    )
    statuses = [r.status for r in responses]
    assert statuses.count(200) == 50
    assert statuses.count(429) == 150


async def test_a_new_tokens_burst_costs_its_address_one_anonymous_request(gateway, auth):
    """Only the miss that is introspected counts against the address's anonymous limit: the
    token's other requests meanwhile wait for that introspection uncounted, so a client's
    first burst (or one after its cached identity expired) does not use the limit up."""
    client = await gateway(rate_limit_unauthenticated=5)
    user = await auth.user()
    responses = await asyncio.gather(
        *(client.get("/api/v1/x", headers=bearer(user.token)) for _ in range(30))
    )
    assert [r.status for r in responses] == [200] * 30
    anonymous = await client.get("/api/v1/x")  # no token: the address's anonymous limit
    assert anonymous.status == 401
    assert anonymous.headers["X-RateLimit-Remaining"] == "3"  # 5, less the miss, less this one


async def test_limits_are_per_user(gateway, auth):
    client = await gateway(rate_limit_default=2)
    first, second = await auth.user(), await auth.user()
    for _ in range(2):
        assert (await client.get("/api/v1/x", headers=bearer(first.token))).status == 200
    assert (await client.get("/api/v1/x", headers=bearer(first.token))).status == 429
    assert (await client.get("/api/v1/x", headers=bearer(second.token))).status == 200


async def test_token_creation_is_limited_per_ip(gateway):
    client = await gateway(rate_limit_login=3)
    body = {"email": "nobody@example.com", "password": "x", "device_name": "d"}
    statuses = [(await client.post("/api/v1/tokens", json=body)).status for _ in range(4)]
    assert statuses == [422, 422, 422, 429]


async def test_send_is_left_to_billing(gateway, auth):
    """The one-per-minute send limit is billing's (after its scope check, keyed by the invoice
    it found): the gateway only applies the caller's default policy to sends."""
    client = await gateway()
    user = await auth.user()
    for path in ("/api/v1/invoices/7/send", "/api/invoices/7/send-email"):
        response = await client.post(path, headers=bearer(user.token), json={})
        assert response.status == 200
        assert response.headers["RateLimit-Policy"] == '"default";q=60;w=60'


async def test_regenerate_pdf_is_limited_per_user(gateway, auth):
    client = await gateway(rate_limit_regenerate=2)
    user = await auth.user()
    statuses = [
        (
            await client.post(f"/api/v1/invoices/{n}/regenerate-pdf", headers=bearer(user.token))
        ).status
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


async def test_revoked_token_is_refused_on_the_very_next_request(gateway, auth):
    client = await gateway()
    user = await auth.user()
    assert (await client.get("/api/v1/x", headers=bearer(user.token))).status == 200  # cached now
    revoke = await client.delete(f"/api/v1/tokens/{user.token_id}", headers=bearer(user.token))
    assert revoke.status == 204
    after = await client.get("/api/v1/x", headers=bearer(user.token))
    assert after.status == 401


async def test_one_redis_round_trip_per_cached_request(gateway, auth, redis_client):
    client = await gateway()
    user = await auth.user()
    await client.get("/api/v1/x", headers=bearer(user.token))  # warm the identity cache
    before = await redis_client.info("commandstats")
    for _ in range(20):
        assert (await client.get("/api/v1/x", headers=bearer(user.token))).status == 200
    after = await redis_client.info("commandstats")
    calls = {name: after[name]["calls"] - before.get(name, {"calls": 0})["calls"] for name in after}
    calls.pop("cmdstat_info", None)
    assert calls.get("cmdstat_evalsha") == 20
    # Commands run inside the script are counted too; nothing else came from the client.
    assert set(calls) - {
        "cmdstat_evalsha",
        "cmdstat_zremrangebyscore",
        "cmdstat_zcard",
        "cmdstat_zrange",
        "cmdstat_zadd",
        "cmdstat_pexpire",
        "cmdstat_get",
        "cmdstat_time",
    } == {name for name, count in calls.items() if count == 0}


async def test_cache_miss_introspects_once_for_concurrent_requests(gateway, auth):
    client = await gateway()
    user = await auth.user()
    from gateway.keys import INTROSPECTOR

    introspector = client.app[INTROSPECTOR]
    before = introspector.calls
    responses = await asyncio.gather(
        *(client.get("/api/v1/x", headers=bearer(user.token)) for _ in range(10))
    )
    assert {r.status for r in responses} == {200}
    assert introspector.calls - before == 1
    await client.get("/api/v1/x", headers=bearer(user.token))
    assert introspector.calls - before == 1  # served from the Redis identity cache


async def test_redis_down_still_serves_with_local_limits(gateway, auth):
    client = await gateway(redis_url="redis://127.0.0.1:1/0", rate_limit_default=3)
    user = await auth.user()
    statuses = [
        (await client.get("/api/v1/x", headers=bearer(user.token))).status for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert (await client.get("/api/v1/x")).status == 401
    bad = await client.get("/api/v1/x", headers=bearer("1|" + "x" * 40))
    assert bad.status == 401


async def test_redis_down_fail_closed_is_503(gateway, auth):
    client = await gateway(redis_url="redis://127.0.0.1:1/0", rate_limit_fail_closed=True)
    user = await auth.user()
    response = await client.get("/api/v1/x", headers=bearer(user.token))
    assert response.status == 503
    assert (await response.json())["error_code"] == "SERVICE_UNAVAILABLE"
