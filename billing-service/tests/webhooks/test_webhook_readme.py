"""The README's webhook receiver, run as written: the platform's deliveries verify with it (the
official `standardwebhooks` library) and a tampered request does not."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from billing_service.platform.keys import POOL

from ..helpers.webhooks import MovingClock, attempts_of, delivery_for

README = Path(__file__).resolve().parents[3] / "README.md"
RUN_LINE = "web.run_app(app, port=9000)"


def readme_receiver() -> str:
    """The Python block after the README's receiver-example marker, without its last line
    (`web.run_app`, which would block: the test serves the same `app` itself)."""
    text = README.read_text()
    marker = text.index("<!-- receiver-example:")
    code = re.search(r"```python\n(.*?)```", text[marker:], re.S)
    assert code is not None
    source = code.group(1).rstrip()
    assert source.endswith(RUN_LINE)
    return source.removesuffix(RUN_LINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def billing(start_billing):
    client = await start_billing(webhook_allowed_networks="127.0.0.0/8")
    # Other tests' deliveries share the table: this test's pass delivers only its own.
    await client.app[POOL].execute(
        "UPDATE webhook_deliveries SET status = 'failed' WHERE status = 'pending'"
    )
    return client


async def test_the_readme_receiver_verifies_a_delivery_and_refuses_a_forgery(
    billing, api, make_setup, monkeypatch, capsys
):
    setup = await make_setup()
    port = free_port()
    status, created = await api(
        "POST",
        "/api/v1/webhooks",
        setup.headers,
        {"url": f"http://127.0.0.1:{port}/hooks/invoicing", "events": ["*"]},
    )
    assert status == 201, created
    hook = created["data"]
    monkeypatch.setenv("WEBHOOK_SECRET", hook["secret"])
    namespace: dict[str, Any] = {}
    exec(compile(readme_receiver(), "README.md", "exec"), namespace)
    server = TestServer(namespace["app"], host="127.0.0.1", port=port)
    await server.start_server()
    try:
        status, test = await api("POST", f"/api/v1/webhooks/{hook['id']}/test", setup.headers)
        assert status == 202, test
        event_id = test["data"]["event_id"]
        assert await delivery_for(billing, MovingClock()).run_once() >= 1
        [attempt] = await attempts_of(billing, event_id)
        assert attempt["status_code"] == 204 and attempt["delivery_status"] == "succeeded"
        assert f"webhook.test {event_id}" in capsys.readouterr().out

        forged = {  # a fresh timestamp, a signature made without the secret
            "webhook-id": event_id,
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                server.make_url("/hooks/invoicing"), data=b'{"type":"x"}', headers=forged
            ) as response,
        ):
            assert response.status == 400
    finally:
        await server.close()
