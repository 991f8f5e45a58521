"""The shared app pieces every service gets: what its answers and logs give away."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from pydantic import BaseModel, ValidationError

from shared.logging import configure_logging, get_logger
from shared.pagination import PUBLIC_BASE_URL, Page, PageParams, paginated
from shared.settings import PublicBaseUrl
from shared.web import create_base_app, json_response


async def _page(request: web.Request) -> web.Response:
    return web.Response(text="<h1>hello</h1>", content_type="text/html")


async def _boom(_: web.Request) -> web.Response:
    raise RuntimeError("boom")


async def _shouting_page(_: web.Request) -> web.Response:
    return web.Response(body=b"<p>hi</p>", headers={"Content-Type": "TEXT/HTML ; charset=utf-8"})


async def _logs_while_handling(_: web.Request) -> web.Response:
    get_logger("test").info("handling")
    return json_response({"ok": True})


async def _listing(request: web.Request) -> web.Response:
    page = Page([1, 2], 40, PageParams(page=2, per_page=2))
    return json_response(paginated(request, page))


@pytest.fixture
async def service(aiohttp_client: Any) -> Any:
    configure_logging("test-service", "INFO", json_output=True)
    app = create_base_app("test-service")
    app[PUBLIC_BASE_URL] = "https://billing.example.com"
    app.router.add_get("/i/{public_id}", _page)
    app.router.add_get("/boom", _boom)
    app.router.add_get("/shouting-page", _shouting_page)
    app.router.add_get("/logs", _logs_while_handling)
    app.router.add_get("/api/v1/things", _listing)
    return await aiohttp_client(app)


async def test_access_log_names_the_route_never_the_path_or_query(service, capsys):
    await service.get("/i/Zm9vYmFyYmF6cXV4cXV1eA?signature=deadbeefcafe")
    await service.get("/no/such/secretive-path-7731")
    await service.get("/boom?token=hunter2")
    output = capsys.readouterr().out
    assert '"route":"/i/{public_id}"' in output
    assert '"route":"unmatched"' in output
    for secret in ("Zm9vYmFyYmF6cXV4cXV1eA", "deadbeefcafe", "secretive-path-7731", "hunter2"):
        assert secret not in output, secret


async def test_no_response_names_the_server_software(service):
    for path in ("/i/abc", "/boom", "/no/such/page", "/healthz", "/metrics"):
        response = await service.get(path)
        assert "Server" not in response.headers, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path


async def test_an_html_page_without_its_own_policy_gets_the_strictest(service):
    page = await service.get("/i/abc")
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none';")
    assert "style-src" not in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    api = await service.get("/healthz")
    assert "Content-Security-Policy" not in api.headers  # JSON answers are not pages
    shouting = await service.get("/shouting-page")  # the media type is case-insensitive
    assert shouting.headers["Content-Security-Policy"].startswith("default-src 'none';")


async def test_every_line_logged_while_handling_a_request_names_its_id(service, capsys):
    given = await service.get("/logs", headers={"X-Request-ID": "trace-42"})
    made = await service.get("/logs")
    get_logger("test").info("between requests")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    handling = [line["request_id"] for line in lines if line["event"] == "handling"]
    assert handling == ["trace-42", made.headers["X-Request-ID"]]
    assert given.headers["X-Request-ID"] == "trace-42"
    assert [line for line in lines if line["event"] == "between requests"] == [
        {"event": "between requests", "service": "test-service", "level": "info",
         "timestamp": lines[-1]["timestamp"]}
    ]  # fmt: skip


async def test_pagination_links_come_from_the_public_base_url(service):
    forged = {
        "Host": "evil.example",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "ftp",
    }
    body = await (await service.get("/api/v1/things?per_page=2&page=2", headers=forged)).json()
    base = "https://billing.example.com/api/v1/things"
    assert body["links"] == {
        "first": f"{base}?per_page=2&page=1",
        "last": f"{base}?per_page=2&page=20",
        "prev": f"{base}?per_page=2&page=1",
        "next": f"{base}?per_page=2&page=3",
    }
    assert body["meta"]["path"] == base


class _WithBase(BaseModel):
    url: PublicBaseUrl


def test_public_base_url_is_an_absolute_http_url():
    assert _WithBase(url="https://billing.example.com/").url == "https://billing.example.com"
    assert _WithBase(url="http://localhost:8080").url == "http://localhost:8080"
    assert _WithBase(url="https://example.com/billing/").url == "https://example.com/billing"
    for bad in ("localhost:8080", "ftp://example.com", "https://", "https://x.example/?a=1", ""):
        with pytest.raises(ValidationError):
            _WithBase(url=bad)


async def test_even_a_malformed_request_gets_no_server_version(service):
    reader, writer = await asyncio.open_connection(service.host, service.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n")
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head = answer.partition(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.0 400") or head.startswith("HTTP/1.1 400")
    assert "aiohttp" not in head and "Python" not in head


async def test_request_lines_follow_the_last_configured_level(service, capsys):
    configure_logging("test-service", "WARNING", json_output=True)
    await service.get("/healthz?quiet")
    await service.get("/i/quiet-at-warning")
    assert '"event":"request"' not in capsys.readouterr().out
    configure_logging("test-service", "INFO", json_output=True)
    await service.get("/i/loud-at-info")
    assert '"route":"/i/{public_id}"' in capsys.readouterr().out
