"""Random JSON at every auth-service route: always a JSON 4xx, never a 500. Also control
characters, extreme dates, bodies nested too deep and ids in non-ASCII digits (issue 8)."""

from __future__ import annotations

import json
import random
import zlib
from urllib.parse import quote

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
    "dev\r\nX-Injected: 1",
    "esc\x1b[2J",
    "sep\u2028",
    "\ud800",
    "0001-01-01T00:00:00+14:00",
    "3000-01-01T00:00:00Z",
    "1899-12-31",
    "²",
    "\u0661\u0662",
    ["invoices:read\n"],
]
ODD_IDS = ["²", "\u0661", "\uff11", "9" * 30, "-1", "1_0", "9223372036854775808"]


def raw_body(rng: random.Random) -> str:
    """The request body's text: mostly random JSON, sometimes nested past any limit."""
    if rng.random() < 0.1:
        depth = rng.choice([33, 1_000, 50_000])
        return rng.choice(["[" * depth, '{"email":' * depth])
    body = {rng.choice(FIELDS): rng.choice(VALUES) for _ in range(rng.randrange(1, 6))}
    return json.dumps(rng.choice(VALUES) if rng.random() < 0.1 else body)


def concrete(path: str, rng: random.Random) -> str:
    if path == "/api/v1/tokens/1" and rng.random() < 0.3:
        return f"/api/v1/tokens/{quote(rng.choice(ODD_IDS))}"
    return path


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
            body = raw_body(rng)
            query = {rng.choice(FIELDS): str(rng.choice(VALUES)) for _ in range(rng.randrange(3))}
            if path == "/internal/users" and rng.random() < 0.3:
                query = {"ids": ",".join(rng.choice(ODD_IDS) for _ in range(2))}
            url = auth.url + concrete(path, rng)
            async with http.request(
                method, url, data=body, params=query, headers=headers
            ) as response:
                text = await response.text()
                assert response.status < 500, (method, url, body[:200], query, text)
                if response.status >= 400:
                    assert json.loads(text)["error_code"]
