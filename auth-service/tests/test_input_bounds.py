"""Issue 8 in auth-service: deep JSON, control characters, out-of-range dates and non-ASCII
ids are a JSON 4xx naming the field, never a 500."""

from __future__ import annotations

import json
import uuid

import aiohttp
import pytest

SECRET = {"X-Internal-Secret": "test-internal-secret-0123456789"}


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def own_address() -> dict[str, str]:
    """A client address of its own, so no other test's attempts count against this one."""
    return {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250 + 1}"}


async def send(http, method, url, *, data=None, headers=None):
    async with http.request(method, url, data=data, headers=headers) as response:
        return response.status, json.loads(await response.text())


async def patch_profile(auth, http, user, body):
    headers = {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    return await send(
        http, "PATCH", f"{auth.url}/api/v1/profile", data=json.dumps(body), headers=headers
    )


async def test_deeply_nested_json_is_a_400(auth, http):
    # The example: `[` x 50,000 to POST /api/v1/tokens was a RecursionError 500.
    for raw in ("[" * 50_000, '{"email": ' * 50_000):
        status, answer = await send(
            http, "POST", f"{auth.url}/api/v1/tokens", data=raw, headers=own_address()
        )
        assert status == 400, answer
        assert answer["error_code"] == "BAD_REQUEST"


async def test_control_characters_in_names_are_a_422(auth, http):
    user = await auth.user()
    creds = {"email": user.email, "password": user.password}
    for device in ("laptop\r\nX-Injected: 1", "term\x1b[2J", "a\u2028b"):
        body = json.dumps(creds | {"device_name": device})
        status, answer = await send(
            http, "POST", f"{auth.url}/api/v1/tokens", data=body, headers=own_address()
        )
        assert status == 422, answer
        assert list(answer["errors"]) == ["device_name"]
    for field, value in (("firstname", "Ann\nBcc"), ("city", "Pécs\x01"), ("name", "Bob\x7f")):
        status, answer = await patch_profile(auth, http, user, {field: value})
        assert status == 422, answer
        assert list(answer["errors"]) == [field]
    body = json.dumps({"email": f"x-{uuid.uuid4().hex[:6]}@example.com", "name": "Eve\rX"})
    status, answer = await send(
        http, "POST", f"{auth.url}/internal/users", data=body, headers=SECRET
    )
    assert status == 422 and list(answer["errors"]) == ["name"], answer


async def test_token_expiry_is_within_the_year_2999(auth, http):
    user = await auth.user()
    creds = {"email": user.email, "password": user.password, "device_name": "erp"}
    for expires in ("3000-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00"):
        body = json.dumps(creds | {"expires_at": expires})
        status, answer = await send(
            http, "POST", f"{auth.url}/api/v1/tokens", data=body, headers=own_address()
        )
        assert status == 422, answer
        assert list(answer["errors"]) == ["expires_at"]
    body = json.dumps(creds | {"expires_at": "2999-12-31T00:00:00Z"})
    status, answer = await send(
        http, "POST", f"{auth.url}/api/v1/tokens", data=body, headers=own_address()
    )
    assert status == 201, answer


async def test_token_ids_in_paths_and_queries_are_ascii_digits(auth, http):
    user = await auth.user()
    headers = {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    # int() takes Arabic-Indic digits as the same number: that must not revoke token 1..9.
    for odd in ("²", "%D9%A1", "%EF%BC%91", "9" * 25, "1_0"):
        status, answer = await send(
            http, "DELETE", f"{auth.url}/api/v1/tokens/{odd}", headers=headers
        )
        assert status == 404, (odd, answer)
    for odd in ("²", "1,²", "9" * 25, "%D9%A1"):
        status, answer = await send(
            http, "GET", f"{auth.url}/internal/users?ids={odd}", headers=SECRET
        )
        assert status == 400, (odd, answer)


async def test_profile_name_and_email_cannot_be_set_to_null(auth, http):
    """Found by the extended fuzzer: an explicit null reached NOT NULL columns (a 500)."""
    user = await auth.user()
    for field in ("name", "email"):
        status, answer = await patch_profile(auth, http, user, {field: None})
        assert status == 422, answer
        assert answer["errors"] == {field: [f"The {field} field must not be null."]}


async def test_text_that_no_utf8_can_hold_is_a_422(auth, http):
    """JSON may escape a lone surrogate. Checked in every string before the model (a string
    without a length constraint let it through to hashing or the database); the field named."""
    user = await auth.user()
    status, answer = await send(
        http,
        "POST",
        f"{auth.url}/internal/introspect",
        data='{"token": "1|\\ud800"}',
        headers=SECRET,
    )
    assert status == 422, answer
    assert answer["errors"] == {"token": ["The token field must be valid Unicode text."]}
    for email in (user.email, "nobody@example.com"):
        raw = json.dumps({"email": email, "device_name": "erp"})[:-1] + ', "password": "\\ud800"}'
        status, answer = await send(
            http, "POST", f"{auth.url}/api/v1/tokens", data=raw, headers=own_address()
        )
        assert status == 422, answer
        assert answer["errors"] == {"password": ["The password field must be valid Unicode text."]}
