"""Requests aiohttp cannot parse get the API's JSON error, never the client's bytes back."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from shared.wire_errors import JsonErrorsAppRunner

MARKER = b"SECRET-ECHO-MARKER"


async def ok(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_post("/upload", ok)
    runner = JsonErrorsAppRunner(app, access_log=None)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", free)
    await site.start()
    try:
        yield free
    finally:
        await runner.cleanup()


async def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, body


BAD_FRAMING = {
    "data after Connection: close": b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\nab" + MARKER * 50,
    "length and chunked": b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n" + MARKER,
    "two lengths": b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
    b"Content-Length: 4\r\n\r\n" + MARKER,
    "chunked, identity": b"POST /upload HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked, identity\r\n\r\n" + MARKER,
}


@pytest.mark.parametrize("raw", BAD_FRAMING.values(), ids=BAD_FRAMING.keys())
async def test_bad_framing_is_a_json_400_that_quotes_nothing(port: int, raw: bytes) -> None:
    status, headers, body = await exchange(port, raw)
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert MARKER not in body
    payload = json.loads(body)
    assert payload["error_code"] == "BAD_REQUEST"
    assert payload["success"] is False


async def test_a_good_request_still_answers(port: int) -> None:
    status, _, body = await exchange(
        port,
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
    )
    assert status == 200
    assert json.loads(body) == {"ok": True}
