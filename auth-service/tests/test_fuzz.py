"""Random JSON at every auth-service route: always a JSON 4xx, never a 500."""

from __future__ import annotations

import json
import random
import zlib

import aiohttp
import pytest

FIELDS = [
    "email",
    "password",
    "device_name",
    "abilities",
    "expires_at",
    "expires_in_days",
    "name",
    "first_name",
    "firstname",
    "phone",
    "postcode",
    "token",
    "kind",
]
VALUES = [
    None,
    True,
    0,
    -1,
    2**64,
    1.5,
    "",
    "a" * 300,
    "x@y",
    "a@b.co",
    "2001-01-01T00:00:00Z",
    "9999-12-31T23:59:59",
    "tomorrow",
    ["*"],
    ["nonsense"],
    [1, 2],
    {},
    {"a": 1},
    "\u0000",
]
ROUTES = [
    ("POST", "/api/v1/tokens"),
    ("POST", "/api/v1/login"),
    ("POST", "/api/v1/logout"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/1"),
    ("GET", "/api/v1/profile"),
    ("PUT", "/api/v1/profile"),
    ("PATCH", "/api/v1/profile"),
    ("POST", "/internal/introspect"),
    ("POST", "/internal/users"),
    ("GET", "/internal/users"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_random_input_never_breaks_a_route(auth, method, path):
    rng = random.Random(zlib.crc32(f"{method} {path}".encode()))
    headers = await auth.bearer() | {
        "X-Internal-Secret": "test-internal-secret-0123456789",
        "X-Forwarded-For": "198.51.100.1",
    }
    async with aiohttp.ClientSession() as http:
        for _ in range(30):
            body = {rng.choice(FIELDS): rng.choice(VALUES) for _ in range(rng.randrange(1, 6))}
            if rng.random() < 0.1:
                body = rng.choice(VALUES)
            query = {rng.choice(FIELDS): str(rng.choice(VALUES)) for _ in range(rng.randrange(3))}
            async with http.request(
                method, auth.url + path, data=json.dumps(body), params=query, headers=headers
            ) as response:
                text = await response.text()
                assert response.status < 500, (method, path, body, query, text)
                if response.status >= 400:
                    assert json.loads(text)["error_code"]
