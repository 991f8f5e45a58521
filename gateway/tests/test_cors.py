"""Pages on other origins (CORS_ORIGINS), and paths no route matches. The browser's view of
the same, from a page on another origin, is tests/test_cors_browser.py."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from yarl import URL

from gateway.cors import EXPOSED_HEADERS
from gateway.settings import Settings

from .request_helpers import bearer

APP = "https://app.example.com"


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }


async def test_no_origin_is_allowed_by_default(gateway, auth):
    client = await gateway()
    user = await auth.user()
    answer = await client.options("/api/v1/invoices", headers=preflight(APP))
    assert answer.status != 204 and "Access-Control-Allow-Origin" not in answer.headers
    read = await client.get("/api/v1/invoices/1", headers={"Origin": APP} | bearer(user.token))
    assert "Access-Control-Allow-Origin" not in read.headers


async def test_the_gateway_answers_an_allowed_origins_preflight(gateway):
    client = await gateway(cors_origins=f"{APP},https://admin.example.com", cors_max_age=300)
    for path in ("/api/v1/invoices", "/api/v1/invoices/7/pay", "/api/v1/tokens"):
        answer = await client.options(path, headers=preflight(APP))
        assert answer.status == 204, path
        assert answer.headers["Access-Control-Allow-Origin"] == APP
        assert "Access-Control-Allow-Credentials" not in answer.headers
        methods = {m.strip() for m in answer.headers["Access-Control-Allow-Methods"].split(",")}
        assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
        allowed = answer.headers["Access-Control-Allow-Headers"].lower()
        assert {"authorization", "content-type", "idempotency-key", "if-match"} <= {
            header.strip() for header in allowed.split(",")
        }
        assert answer.headers["Access-Control-Max-Age"] == "300"
    other = await client.options("/api/v1/invoices", headers=preflight("https://evil.example"))
    assert other.status != 204 and "Access-Control-Allow-Origin" not in other.headers


async def test_answers_to_an_allowed_origin_expose_the_rate_limits_and_etag(gateway, auth):
    client = await gateway(cors_origins=APP)
    user = await auth.user()
    for path in ("/api/v1/invoices/1", "/api/v1/me", "/api/v1/openapi.json", "/nowhere"):
        answer = await client.get(path, headers={"Origin": APP} | bearer(user.token))
        assert answer.headers["Access-Control-Allow-Origin"] == APP, path
        assert "Origin" in answer.headers.getall("Vary"), path
        exposed = {h.strip() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
        assert set(EXPOSED_HEADERS) <= exposed and "ETag" in exposed, path
    stranger = await client.get("/api/v1/me", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    assert "Origin" in stranger.headers.getall("Vary")


async def test_any_origin_is_never_allowed_credentials(gateway):
    client = await gateway(cors_origins="*")
    answer = await client.options("/api/v1/me", headers=preflight("https://any.example", "GET"))
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_cors_origins_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", f" {APP}/ , https://admin.example.com")
    assert Settings().cors_origins == (APP, "https://admin.example.com")
    monkeypatch.delenv("CORS_ORIGINS")
    assert Settings().cors_origins == ()


async def _get_raw(client: TestClient, path: str):
    url = URL(f"http://{client.host}:{client.port}{path}", encoded=True)
    return await client.session.get(url, headers={"Accept": "application/json"})


async def test_a_path_no_route_matches_gets_the_json_envelope_and_the_limits(gateway):
    client = await gateway()
    for path in ("/api/v1/products/%0A", "/api/v1/%0d%0a", "/%0A", "/nowhere/%0Ax"):
        answer = await _get_raw(client, path)
        assert answer.status == 404, path
        assert answer.content_type == "application/json", path
        body = await answer.json()
        assert body["success"] is False and body["error_code"] == "NOT_FOUND", (path, body)
        assert "X-RateLimit-Remaining" in answer.headers, path
