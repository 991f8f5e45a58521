"""The envelope (docs/api.md) on what the gateway answers itself (errors, 429, 502-504) and on the
answers it relays, the unwrapped ones included (token issuance, /login, /me, acknowledgements);
the OpenAPI document stays a pure OpenAPI document."""

from __future__ import annotations

import pytest
from yarl import URL


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _error(response, status: int, error: str) -> dict:
    answer = await response.json()
    assert response.status == status, answer
    assert (answer["success"], answer["error"]) == (False, error)
    assert answer["error_code"].lower() == error and answer["message"]
    return answer


async def test_the_gateways_own_errors_carry_success_false_and_error(gateway, auth):
    client = await gateway(rate_limit_default=1)
    user = await auth.user()
    await _error(await client.get("/api/v1/invoices"), 401, "unauthorized")
    await _error(await client.get("/nowhere"), 404, "not_found")
    smuggled = URL(f"http://{client.host}:{client.port}/api/v1/x/%2e%2e/invoices", encoded=True)
    await _error(await client.session.get(smuggled), 400, "bad_request")
    assert (await client.get("/api/v1/x", headers=bearer(user.token))).status == 200
    await _error(await client.get("/api/v1/x", headers=bearer(user.token)), 429, "rate_limited")


@pytest.mark.parametrize(
    ("overrides", "path", "status", "error"),
    [
        ({"billing_url": "http://127.0.0.1:1"}, "/api/v1/x", 503, "service_unavailable"),
        ({"upstream_read_timeout": 0.3}, "/api/v1/slow", 504, "upstream_timeout"),
    ],
)
async def test_upstream_failures_carry_success_false_and_error(
    gateway, auth, overrides, path, status, error
):
    client = await gateway(**overrides)
    user = await auth.user()
    await _error(await client.get(path, headers=bearer(user.token)), status, error)


async def test_relayed_auth_answers_carry_success(gateway, auth):
    client = await gateway()
    user = await auth.user()
    credentials = {"email": user.email, "password": user.password, "device_name": "sdk"}
    issued = await client.post("/api/v1/tokens", json=credentials | {"abilities": ["*:read"]})
    token = await issued.json()
    assert (issued.status, token["success"], token["abilities"]) == (201, True, ["*:read"])
    login = await (await client.post("/api/login", json=credentials)).json()
    assert login["success"] is True and login["user"]["email"] == user.email
    me = await (await client.get("/api/v1/me", headers=bearer(token["token"]))).json()
    assert (me["success"], me["email"]) == (True, user.email)
    wrong = await client.post("/api/v1/tokens", json=credentials | {"password": "wrong"})
    answer = await _error(wrong, 422, "validation_error")
    assert answer["errors"] == {"email": ["The provided credentials are incorrect."]}
    logout = await client.post("/api/v1/logout", headers=bearer(token["token"]))
    assert await logout.json() == {"success": True, "message": "Logged out successfully"}


async def test_the_openapi_document_stays_pure(gateway):
    client = await gateway()
    spec = await (await client.get("/api/v1/openapi.json")).json()
    assert "success" not in spec and spec["openapi"].startswith("3.")
    error = spec["components"]["schemas"]["Error"]
    assert {"success", "error", "message", "error_code"} <= set(error["required"])
