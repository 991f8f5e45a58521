"""End to end through the gateway: authentication, tenancy, limits, failure modes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time

import pytest

pytestmark = pytest.mark.stack

RATE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Policy",
)


async def call(http, stack, method, path, client=None, **kwargs):
    headers = kwargs.pop("headers", {}) | (client.headers if client else {})
    async with http.request(method, stack.base_url + path, headers=headers, **kwargs) as response:
        text = await response.text()
        body = json.loads(text) if text and response.content_type == "application/json" else text
        return response.status, body, response.headers


async def test_demo_account_and_health(stack, http):
    status, body, _ = await call(
        http,
        stack,
        "POST",
        "/api/login",
        json={"email": "demo@example.com", "password": "demo-password", "device_name": "my-app"},
    )
    assert status == 200
    assert body["token"].split("|")[0].isdigit()
    assert body["user"]["email"] == "demo@example.com"
    assert (await call(http, stack, "GET", "/healthz"))[0] == 200


async def test_token_issuance_rules(stack, http, new_client):
    owner = await new_client()
    creds = {"email": owner.email, "password": owner.password, "device_name": "erp-integration"}
    # INNOVATECH's example, verbatim.
    status, body, _ = await call(
        http,
        stack,
        "POST",
        "/api/v1/tokens",
        json=creds | {"abilities": ["invoices:read", "invoices:download"]},
    )
    assert status == 201 and body["abilities"] == ["invoices:read", "invoices:download"]
    status, body, _ = await call(http, stack, "POST", "/api/v1/tokens", json=creds)
    assert status == 201 and body["abilities"] == ["*"]
    status, body, _ = await call(
        http, stack, "POST", "/api/v1/tokens", json=creds | {"abilities": ["quotes:read", "bogus"]}
    )
    assert body["abilities"] == ["quotes:read"]
    status, body, _ = await call(
        http, stack, "POST", "/api/v1/tokens", json=creds | {"abilities": ["bogus"]}
    )
    assert status == 422 and "abilities" in body["errors"]
    status, body, _ = await call(
        http, stack, "POST", "/api/v1/tokens", json=creds | {"password": "wrong"}
    )
    assert status == 422
    assert body["errors"]["email"] == ["The provided credentials are incorrect."]
    status, body, _ = await call(
        http, stack, "POST", "/api/v1/tokens", json=creds | {"device_name": "d" * 256}
    )
    assert status == 422 and "device_name" in body["errors"]


async def test_me_tokens_and_profile(stack, http, new_client):
    client = await new_client()
    status, me, _ = await call(http, stack, "GET", "/api/me", client)
    assert status == 200
    # Unwrapped, as InvoiceMee shows, with issue 9's `success`.
    assert set(me) == {"success", "id", "name", "email", "created_at"}
    assert me["email"] == client.email
    status, tokens, _ = await call(http, stack, "GET", "/api/v1/tokens", client)
    assert [t["name"] for t in tokens["data"]] == ["tests"]
    status, profile, _ = await call(http, stack, "GET", "/api/v1/profile", client)
    assert status == 200 and profile["data"]["email"] == client.email
    status, profile, _ = await call(
        http, stack, "PUT", "/api/v1/profile", client, json={"city": "Cape Town", "country": "ZA"}
    )
    assert status == 200 and profile["data"]["city"] == "Cape Town"
    status, body, _ = await call(http, stack, "PUT", "/api/v1/profile", client, json={"phone": 5})
    assert status == 422 and "phone" in body["errors"]


@pytest.mark.parametrize("authorization", [None, "Bearer nonsense", "Bearer 1|" + "x" * 40])
async def test_missing_or_bad_token_is_401(stack, http, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    status, body, response_headers = await call(
        http, stack, "GET", "/api/v1/companies", headers=headers
    )
    assert status == 401
    assert body == {
        "success": False,
        "error": "unauthorized",
        "message": "Unauthenticated.",
        "error_code": "UNAUTHORIZED",
    }
    for name in RATE_HEADERS:
        assert name in response_headers


async def test_revoked_token_is_refused_on_the_next_request(stack, http, new_client):
    client = await new_client()
    assert (await call(http, stack, "GET", "/api/v1/me", client))[0] == 200
    status, body, _ = await call(http, stack, "POST", "/api/logout", client)
    assert (status, body) == (200, {"success": True, "message": "Logged out successfully"})
    assert (await call(http, stack, "GET", "/api/v1/me", client))[0] == 401


async def test_revoking_another_token_by_id(stack, http, new_client):
    client = await new_client()
    creds = {"email": client.email, "password": client.password, "device_name": "second"}
    _, second, _ = await call(http, stack, "POST", "/api/v1/tokens", json=creds)
    second_headers = {"Authorization": f"Bearer {second['token']}"}
    assert (await call(http, stack, "GET", "/api/v1/me", headers=second_headers))[0] == 200
    second_id = second["token"].split("|")[0]
    assert (await call(http, stack, "DELETE", f"/api/v1/tokens/{second_id}", client))[0] == 204
    assert (await call(http, stack, "GET", "/api/v1/me", headers=second_headers))[0] == 401
    assert (await call(http, stack, "GET", "/api/v1/me", client))[0] == 200


async def test_expired_token_is_token_expired(stack, http, new_client):
    client = await new_client()
    token_id = client.token.split("|")[0]
    stack.sql(
        "auth",
        f"UPDATE personal_access_tokens SET expires_at = now() - interval '1 minute' WHERE id = {int(token_id)}",
    )
    status, body, _ = await call(http, stack, "GET", "/api/v1/me", client)
    assert (status, body["error_code"]) == (401, "TOKEN_EXPIRED")


async def test_missing_ability_is_403(stack, http, new_client):
    client = await new_client(["profile:read"])
    assert (await call(http, stack, "GET", "/api/v1/profile", client))[0] == 200
    status, body, headers = await call(http, stack, "GET", "/api/v1/companies", client)
    assert (status, body["error_code"]) == (403, "FORBIDDEN")
    assert "X-RateLimit-Remaining" in headers
    status, _, _ = await call(http, stack, "PUT", "/api/v1/profile", client, json={"city": "X"})
    assert status == 403


async def test_companies_are_tenant_scoped(stack, http, new_client):
    owner, stranger = await new_client(), await new_client()
    status, created, _ = await call(
        http, stack, "POST", "/api/v1/companies", owner, json={"name": "Acme Ltd"}
    )
    assert status == 201 and created["data"]["role"] == "owner"
    company_id = created["data"]["id"]
    status, listed, _ = await call(http, stack, "GET", "/api/companies", owner)
    assert [c["id"] for c in listed["data"]] == [company_id]
    assert listed["meta"]["total"] == 1
    assert (await call(http, stack, "GET", f"/api/v1/companies/{company_id}", stranger))[0] == 404
    assert (await call(http, stack, "GET", "/api/v1/companies", stranger))[1]["data"] == []
    status, body, _ = await call(http, stack, "POST", "/api/v1/companies", owner, json={"name": ""})
    assert status == 422 and "name" in body["errors"]


async def test_rate_limit_headers_on_every_response(stack, http, new_client):
    client = await new_client()
    answers = [
        await call(http, stack, "GET", "/api/v1/me", client),
        await call(http, stack, "POST", "/api/v1/companies", client, json={"name": "H"}),
        await call(http, stack, "GET", "/api/v1/companies/999999", client),
        await call(http, stack, "POST", "/api/v1/companies", client, json={}),
        await call(http, stack, "GET", "/internal/jwks"),
        await call(http, stack, "GET", "/api/v1/openapi.json"),
    ]
    assert [status for status, _, _ in answers] == [200, 201, 404, 422, 404, 200]
    for _, _, headers in answers:
        for name in RATE_HEADERS:
            assert name in headers
    me_headers = answers[0][2]
    assert me_headers["RateLimit-Policy"] == '"default";q=60;w=60'
    assert int(me_headers["X-RateLimit-Reset"]) >= int(time.time())


async def test_exactly_the_limit_of_rapid_requests_is_admitted(stack, http, new_client):
    client = await new_client()
    statuses, retry_after = [], None
    for _ in range(65):
        status, _, headers = await call(http, stack, "GET", "/api/v1/me", client)
        statuses.append(status)
        retry_after = headers.get("Retry-After", retry_after)
    assert statuses == [200] * 60 + [429] * 5
    assert retry_after is not None and 1 <= int(retry_after) <= 60


async def test_concurrent_requests_over_the_limit_admit_only_the_limit(stack, http, new_client):
    client = await new_client()
    results = await asyncio.gather(
        *(call(http, stack, "GET", "/api/v1/me", client) for _ in range(200))
    )
    statuses = [status for status, _, _ in results]
    assert statuses.count(200) == 60
    assert statuses.count(429) == 140


async def test_failed_logins_are_throttled(stack, http, new_client):
    client = await new_client()
    bad = {"email": client.email, "password": "wrong", "device_name": "d"}
    statuses = [(await call(http, stack, "POST", "/api/v1/login", json=bad))[0] for _ in range(6)]
    assert statuses == [422] * 5 + [429]


async def test_backend_without_identity_jwt_is_401(stack, new_client):
    client = await new_client()
    probe = (
        "import urllib.request, urllib.error\n"
        "for headers in ({}, {'Authorization': 'Bearer " + client.token + "'}):\n"
        "    request = urllib.request.Request('http://billing-service:8000/api/v1/companies', headers=headers)\n"
        "    try:\n"
        "        urllib.request.urlopen(request, timeout=5)\n"
        "        print(200)\n"
        "    except urllib.error.HTTPError as error:\n"
        "        print(error.code)\n"
    )
    done = stack.compose_command("exec", "-T", "gateway", "python", "-c", probe)
    assert done.stdout.split() == ["401", "401"]


async def test_openapi_and_docs(stack, http):
    status, spec, _ = await call(http, stack, "GET", "/api/v1/openapi.json")
    assert status == 200 and "/api/v1/openapi.json" in spec["paths"]  # the rest: the snapshot
    status, page, _ = await call(http, stack, "GET", "/docs")
    assert status == 200 and "/docs/swagger-ui-bundle.js" in page


async def test_requests_are_served_while_redis_is_down(stack, http, new_client):
    client = await new_client()
    assert (await call(http, stack, "GET", "/api/v1/me", client))[0] == 200
    stack.compose_command("stop", "redis")
    try:
        status, body, headers = await call(http, stack, "GET", "/api/v1/me", client)
        assert status == 200 and body["email"] == client.email
        assert "X-RateLimit-Remaining" in headers
        assert (await call(http, stack, "GET", "/api/v1/me"))[0] == 401
    finally:
        stack.compose_command("start", "redis")
        stack.compose_command("up", "-d", "--wait", "redis")
    assert (await call(http, stack, "GET", "/api/v1/me", client))[0] == 200


async def test_identity_cache_and_windows_live_in_redis(stack, http, new_client):
    client = await new_client()
    assert (await call(http, stack, "GET", "/api/v1/me", client))[0] == 200
    done = stack.compose_command("exec", "-T", "redis", "redis-cli", "--scan", "--pattern", "tok:*")
    # One entry per token, keyed by its secret's hash, whichever form the client sends.
    secret_hash = hashlib.sha256(client.token.split("|")[1].encode()).hexdigest()
    assert f"tok:{secret_hash}" in done.stdout.split()
    done = stack.compose_command(
        "exec", "-T", "redis", "redis-cli", "--scan", "--pattern", "rl:user:*"
    )
    assert done.stdout.split()


async def test_scaled_billing_replicas_all_serve(stack, http, new_client):
    """`--scale billing-service=3`: the gateway re-resolves the name and balances over all."""
    client = await new_client()
    stack.compose_command(
        "up", "-d", "--no-recreate", "--wait", "--scale", "billing-service=3", timeout=300
    )
    probe = (
        "import urllib.request, re\n"
        "text = urllib.request.urlopen('http://127.0.0.1:8000/metrics', timeout=5).read().decode()\n"
        "print(sum(float(v) for v in re.findall("
        "r'http_requests_total\\{[^}]*route=\"/api/v1/companies\"[^}]*\\} (\\S+)', text)))\n"
    )
    deadline = time.monotonic() + 60
    served: list[float] = []
    while time.monotonic() < deadline:
        for _ in range(12):
            status, _, _ = await call(http, stack, "GET", "/api/v1/companies", client)
            assert status in (200, 429)
        served = [
            float(
                stack.compose_command(
                    "exec", "-T", "--index", str(index), "billing-service", "python", "-c", probe
                ).stdout
            )
            for index in (1, 2, 3)
        ]
        if all(count > 0 for count in served):
            break
        await asyncio.sleep(1)  # give the gateway's resolver its next turn; polled, not timed
    assert all(count > 0 for count in served), served
