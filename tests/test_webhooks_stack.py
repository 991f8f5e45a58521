"""Webhooks through the whole platform: events reach a receiver on the compose network signed
as Standard Webhooks says (checked with the official library), and a billing replica killed
in the middle of delivering loses nothing."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess

import aiohttp
import pytest
from standardwebhooks import Webhook

pytestmark = pytest.mark.stack
WAIT = 120  # seconds: an upper bound for the deliveries, not a timing assertion
HOOK_URL = "http://webhook-receiver:9000/hook"


class Receiver:
    """The stack's webhook receiver (tests/stack/webhook_receiver.py), through its port."""

    def __init__(self, stack, http: aiohttp.ClientSession) -> None:
        port = stack.compose_command("port", "webhook-receiver", "9000").stdout.strip()
        self.url = "http://127.0.0.1:" + port.rsplit(":", 1)[1]
        self.http = http

    async def control(self, **values: object) -> None:
        async with self.http.post(f"{self.url}/control", json=values) as response:
            assert response.status == 204

    async def received(self) -> list[dict]:
        async with self.http.get(f"{self.url}/received") as response:
            return list(await response.json())

    async def until_delivered(self, event_ids: set[str]) -> list[dict]:
        """Every request, once each event id has arrived (answered 2xx) at least once."""
        async with asyncio.timeout(WAIT):
            while True:
                requests = await self.received()
                ok = {r["headers"]["webhook-id"] for r in requests if r["answered"] < 300}
                if event_ids <= ok:
                    return requests
                await asyncio.sleep(0.5)


def verified(secret: str, request: dict) -> dict:
    """The payload of a request the official library accepts (it raises otherwise)."""
    body = base64.b64decode(request["body"]).decode()
    return dict(Webhook(secret).verify(body, request["headers"]))


async def company_with_webhook(new_client, send, events: list[str]) -> tuple[str, dict]:
    client = await new_client()
    status, answer = await send("POST", "/api/v1/companies", client.token, {"name": "Hooks Ltd"})
    assert status == 201, answer
    status, hook = await send(
        "POST", "/api/v1/webhooks", client.token, {"url": HOOK_URL, "events": events}
    )
    assert status == 201, hook
    return client.token, hook["data"]


async def events_of(send, token: str, event_type: str) -> set[str]:
    status, page = await send("GET", f"/api/v1/events?type={event_type}&per_page=100", token)
    assert status == 200, page
    return {event["id"] for event in page["data"]}


async def test_an_event_reaches_the_receiver_signed_as_standard_webhooks_says(
    stack, new_client, send, http
):
    receiver = Receiver(stack, http)
    token, hook = await company_with_webhook(new_client, send, ["recipient.*"])
    status, recipient = await send(
        "POST", "/api/v1/customers", token, {"company_name": "Signed AG", "email": "a@signed.ag"}
    )
    assert status == 201, recipient
    [event_id] = await events_of(send, token, "recipient.created")

    requests = await receiver.until_delivered({event_id})
    [request] = [r for r in requests if r["headers"]["webhook-id"] == event_id]
    payload = verified(hook["secret"], request)
    assert payload["type"] == "recipient.created"
    assert payload["data"]["id"] == recipient["data"]["id"]
    assert "invoicing" in request["headers"]["User-Agent"].lower()


def billing_containers(stack) -> list[str]:
    done = stack.compose_command("ps", "-q", "billing-service")
    return done.stdout.split()


async def test_a_billing_replica_killed_while_delivering_loses_no_event(
    stack, new_client, send, http
):
    receiver = Receiver(stack, http)
    stack.compose_command("up", "-d", "--wait", "--scale", "billing-service=2", timeout=300)
    try:
        assert len(billing_containers(stack)) == 2
        token, hook = await company_with_webhook(new_client, send, ["recipient.created"])
        # Each delivery takes 2 s at the receiver: both replicas are mid-delivery when one dies.
        await receiver.control(delay=2.0)
        for number in range(24):
            body = {"company_name": f"Kill {number} AG", "email": f"k{number}@kill.example"}
            status, _ = await send("POST", "/api/v1/customers", token, body)
            assert status == 201
        event_ids = await events_of(send, token, "recipient.created")
        assert len(event_ids) == 24
        await in_flight(stack, hook["id"])
        await asyncio.to_thread(
            subprocess.run, ["docker", "kill", billing_containers(stack)[0]], check=True, timeout=60
        )

        requests = await receiver.until_delivered(event_ids)
        mine = [r for r in requests if r["headers"]["webhook-id"] in event_ids]
        for request in mine:
            assert verified(hook["secret"], request)["type"] == "recipient.created"
        # A delivery the killed replica made but never recorded stays pending until its lease
        # ends and the other replica delivers it again: the receiver has seen every id by then.
        assert await succeeded_count(stack, hook["id"], until=24) == 24
        # At least once: a delivery cut off by the kill may arrive twice, with the same id.
        assert {r["headers"]["webhook-id"] for r in mine} == event_ids
        print(json.dumps({"events": 24, "requests": len(mine)}))
    finally:
        await receiver.control(delay=0, clear=True)
        stack.compose_command("up", "-d", "--wait", "--scale", "billing-service=1", timeout=300)


async def succeeded_count(stack, endpoint_id: int, until: int) -> int:
    """The endpoint's succeeded deliveries, once `until` of them are recorded (or WAIT ends)."""
    statement = (
        f"SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = {endpoint_id} "
        "AND status = 'succeeded'"
    )
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(WAIT):
            count = int(stack.sql("billing", statement))
            while count < until:
                await asyncio.sleep(0.5)
                count = int(stack.sql("billing", statement))
    return int(stack.sql("billing", statement))


async def in_flight(stack, endpoint_id: int) -> None:
    """Until a replica has claimed deliveries of the endpoint and not finished them (their
    lease runs)."""
    statement = (
        f"SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = {endpoint_id} "
        "AND status = 'pending' AND next_attempt_at > now()"
    )
    async with asyncio.timeout(WAIT):
        claimed = stack.sql("billing", statement)
        while claimed == "0":
            await asyncio.sleep(0.2)
            claimed = stack.sql("billing", statement)
