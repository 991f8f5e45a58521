"""Proxied routes are served without the middleware chain: what the chain did for them (request
id, metrics by route template, the access line, JSON errors) is done inline, and the target a
backend is sent is the one the generic path computed."""

from __future__ import annotations

import io
import random
import sys

from yarl import URL

from gateway.routes import upstream_path, upstream_target
from shared.web import METRICS_REGISTRY

from .request_helpers import bearer


def test_a_target_passed_through_is_the_one_decoding_and_encoding_makes():
    chars = "aZ09-._~!$&'()*+,;=:@/%2f%41%e2%82%ac?#{}| \"<>^`[]\\é"
    rng = random.Random(13)
    targets = [
        "/api/v1/invoices/42/payments?expires=1&signature=a%2Fb",
        "/api/invoices?x=1#frag",
        "/api/v1/a+b;c=d",
        "/api/v1//x?",
    ]
    for _ in range(3000):
        size = rng.randint(0, 24)
        tail = "".join(rng.choice(chars) for _ in range(size)).replace("%", rng.choice(["%", "%2"]))
        targets.append(rng.choice(["/api/v1/", "/api/", "/i/"]) + tail)
    for raw in targets:
        try:
            url = URL(raw.encode("utf-8", "surrogateescape").decode("latin-1"), encoded=True)
        except ValueError:
            continue
        expected = upstream_path(url.path, url.raw_query_string)
        assert upstream_target(url.raw_path_qs, url.path, url.raw_query_string) == expected, raw


async def test_proxied_requests_are_counted_by_route_template(gateway, auth, monkeypatch):
    # Not capsys: it closes its stream after the test, and structlog's cached loggers keep it.
    output = io.StringIO()
    monkeypatch.setattr(sys, "stdout", output)
    client = await gateway(log_level="INFO")
    user = await auth.user()
    registry = client.app[METRICS_REGISTRY]

    def served(method: str, status: str) -> float:
        labels = {"service": "gateway", "method": method, "route": "/api/v1/{tail}"}
        value = registry.get_sample_value("http_requests_total", labels | {"status": status})
        return value or 0.0

    before = served("GET", "200")
    response = await client.get("/api/v1/invoices/7", headers=bearer(user.token))
    assert response.status == 200 and response.headers["X-Request-ID"]
    assert served("GET", "200") == before + 1
    # A method of the client's invention is one series, whatever its spelling.
    for method in ("PROPFIND", "MKCOL"):  # (aiohttp's parser refuses unknown tokens itself)
        answer = await client.request(method, "/api/v1/x", headers=bearer(user.token))
        assert answer.status == 200  # billing's to answer (the echo upstream here)
    assert served("OTHER", "200") == 2
    assert registry.get_sample_value("http_request_duration_seconds_count", {
        "service": "gateway", "route": "/api/v1/{tail}"
    }) >= 3  # fmt: skip
    lines = [
        line
        for line in output.getvalue().splitlines()
        if '"event":"request"' in line and '"service":"gateway"' in line
    ]
    assert len(lines) == 3 and all('"route":"/api/v1/{tail}"' in line for line in lines)
    assert response.headers["X-Request-ID"] in lines[0]


async def test_errors_on_the_lean_path_are_json_with_the_request_id(gateway):
    client = await gateway(billing_url="http://127.0.0.1:1")
    response = await client.get("/api/v1/x", headers={"X-Request-ID": "trace-1"})
    assert response.status == 401 and response.headers["X-Request-ID"] == "trace-1"
    assert (await response.json())["error_code"] == "UNAUTHORIZED"
