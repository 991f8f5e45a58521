"""The envelope (docs/api.md) on every public route of auth-service, the unwrapped answers
(token issuance, /login, /me, the logout acknowledgement); the JWKS stays a pure JWKS."""

from __future__ import annotations

import aiohttp
import pytest


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def call(http, method, url, body=None, headers=None):
    async with http.request(method, url, json=body, headers=headers) as response:
        text = await response.text()
        return response.status, (await response.json() if text else None)


async def test_every_public_answer_says_whether_it_succeeded(auth, http):
    user = await auth.user()
    credentials = {"email": user.email, "password": user.password, "device_name": "erp"}
    bearer = {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    other = await call(http, "POST", f"{auth.url}/api/v1/tokens", credentials)
    other_id = other[1]["token"].partition("|")[0]
    for method, path, body, status in (
        ("POST", "/api/v1/tokens", credentials, 201),
        ("POST", "/api/v1/login", credentials, 200),
        ("GET", "/api/v1/me", None, 200),
        ("GET", "/api/v1/tokens", None, 200),
        ("GET", "/api/v1/profile", None, 200),
        ("PUT", "/api/v1/profile", {"city": "Cape Town"}, 200),
        ("PATCH", "/api/v1/profile", {"state": "Western Cape"}, 200),
    ):
        answer = await call(http, method, f"{auth.url}{path}", body, bearer)
        assert answer[0] == status and answer[1]["success"] is True, (method, path, answer)
    assert await call(http, "DELETE", f"{auth.url}/api/v1/tokens/{other_id}", None, bearer) == (
        204,
        None,
    )
    assert await call(http, "POST", f"{auth.url}/api/v1/logout", {}, bearer) == (
        200,
        {"success": True, "message": "Logged out successfully"},
    )
    # The JWKS is a document of its own format (RFC 7517): no envelope.
    status, keys = await call(http, "GET", f"{auth.url}/internal/jwks")
    assert status == 200 and set(keys) == {"keys"}


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "error"),
    [
        ("GET", "/api/v1/me", None, {}, 401, "unauthorized"),
        ("POST", "/api/v1/tokens", {"email": "x@example.com"}, {}, 422, "validation_error"),
        (
            "POST",
            "/api/v1/login",
            {"email": "nobody@example.com", "password": "x", "device_name": "d"},
            {},
            422,
            "validation_error",
        ),
    ],
)
async def test_every_error_carries_success_false_and_error(
    auth, http, method, path, body, headers, status, error
):
    answer = await call(http, method, f"{auth.url}{path}", body, headers)
    assert answer[0] == status
    assert (answer[1]["success"], answer[1]["error"]) == (False, error)


async def test_a_token_without_the_ability_is_a_403_in_the_envelope(auth, http):
    bearer = await auth.bearer(["invoices:read"])
    status, answer = await call(http, "GET", f"{auth.url}/api/v1/profile", None, bearer)
    assert (status, answer["success"], answer["error"]) == (403, False, "forbidden")
