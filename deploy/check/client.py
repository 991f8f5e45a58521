"""The client of scripts/swarm-check, run in a container on the stack's network.

It stands in for the load balancer in front of the gateway: it resolves `tasks.gateway` every
second and spreads requests over the tasks, trying the next task when one refuses the
connection (nothing was sent: safe for a write too), as a balancer does. Every other error or
non-2xx answer counts as a failed request.

  client.py walkthrough EMAIL PASSWORD       the README's "Try it", step by step
  client.py load EMAIL PASSWORD OUT_DIR      reads and writes until SIGTERM, then checks every
                                             write is there; OUT_DIR/load.json
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

GATEWAY = "tasks.gateway"
PORT = 8080
WORKERS = 4
PAUSE = 0.05  # seconds between one worker's requests: a steady, bounded stream


class Failed(Exception):
    pass


class Balancer:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.addresses: list[str] = []
        self.resolved = asyncio.Event()
        self.turn = itertools.count()

    async def resolve_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                infos = await loop.getaddrinfo(GATEWAY, PORT, type=socket.SOCK_STREAM)
                self.addresses = sorted({str(info[4][0]) for info in infos})
                self.resolved.set()
            except OSError:
                pass  # keep the last known tasks
            await asyncio.sleep(1)

    async def call(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        start = next(self.turn)
        addresses = self.addresses[start % len(self.addresses) :] + self.addresses
        for address in addresses[: len(self.addresses)]:
            url = path if path.startswith("http") else f"http://{address}:{PORT}{path}"
            try:
                async with self.session.request(method, url, headers=headers, json=body) as answer:
                    raw = await answer.read()
                    kind = answer.content_type
                    return answer.status, json.loads(raw) if kind == "application/json" else raw
            except aiohttp.ClientConnectorError:
                continue  # refused before anything was sent: the next task
        raise Failed(f"{method} {path}: no gateway task took the connection")


def expect(status: int, answer: Any, wanted: int, what: str) -> Any:
    if status != wanted:
        raise Failed(f"{what}: {status} {answer!r:.300}")
    return answer


async def walkthrough(api: Balancer, email: str, password: str) -> None:
    login = {"email": email, "password": password, "device_name": "swarm-check"}
    token = expect(*await api.call("POST", "/api/v1/tokens", None, login), 201, "token")["token"]
    me = expect(*await api.call("GET", "/api/v1/me", token), 200, "me")
    assert email in json.dumps(me), me
    expect(*await api.call("PUT", "/api/v1/profile", token, {"city": "Cape Town"}), 200, "profile")
    expect(*await api.call("POST", "/api/v1/companies", token, {"name": "Acme"}), 201, "company")
    read_only = login | {"abilities": ["companies:read"]}
    ro = expect(*await api.call("POST", "/api/v1/tokens", None, read_only), 201, "ro")["token"]
    expect(*await api.call("POST", "/api/v1/companies", ro, {"name": "No"}), 403, "ro write")
    expect(*await api.call("POST", "/api/v1/companies", token, {"name": ""}), 422, "bad input")
    invoicer = {"company_entity": "Acme Ltd", "currency": "USD", "tax_rate": 20}
    invoicer_id = expect(*await api.call("POST", "/api/v1/invoicers", token, invoicer), 201, "inv")
    customer = {"company_name": "Client Corp", "email": "ap@client.example"}
    customer_id = expect(*await api.call("POST", "/api/v1/customers", token, customer), 201, "c")
    invoice = {
        "invoicer_id": invoicer_id["data"]["id"],
        "customer_id": customer_id["data"]["id"],
        "items": [{"description": "Web development", "quantity": 40, "unit_price": 150}],
    }
    made = expect(*await api.call("POST", "/api/v1/invoices", token, invoice), 201, "invoice")
    invoice_id = made["data"]["id"]
    base = f"/api/v1/invoices/{invoice_id}"
    expect(*await api.call("POST", f"{base}/approve", token, {}), 200, "approve")
    payment = {"amount": "7200.00", "payment_method": "bank_transfer"}
    expect(*await api.call("POST", f"{base}/pay", token, payment), 200, "pay")
    paid = expect(*await api.call("GET", "/api/v1/invoices?status=paid", token), 200, "paid")
    assert [row["id"] for row in paid["data"]] == [invoice_id], paid
    link = expect(*await api.call("GET", f"{base}/download", token), 200, "download")
    path = "/" + link["data"]["download_url"].split("/", 3)[3]  # the link's path on any task
    pdf = expect(*await api.call("GET", path), 200, "pdf")
    assert pdf.startswith(b"%PDF"), pdf[:20]
    expect(*await api.call("POST", "/api/v1/logout", token), 200, "logout")
    expect(*await api.call("GET", "/api/v1/me", token), 401, "after logout")
    print("walkthrough: every step answered as the README says")


class Load:
    def __init__(self, api: Balancer, token: str) -> None:
        self.api, self.token = api, token
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.written: list[int] = []

    async def timed(self, method: str, path: str, body: Any, wanted: int) -> Any:
        started = time.perf_counter()
        try:
            status, answer = await self.api.call(method, path, self.token, body)
            return expect(status, answer, wanted, f"{method} {path}")
        except (Failed, aiohttp.ClientError, TimeoutError) as error:
            self.failures.append(f"{type(error).__name__}: {error}"[:300])
            return None
        finally:
            self.latencies.append(time.perf_counter() - started)

    async def worker(self, number: int, stop: asyncio.Event) -> None:
        for turn in itertools.count():
            if stop.is_set():
                return
            customer = {"company_name": f"Load {number}-{turn}", "email": "load@client.example"}
            made = await self.timed("POST", "/api/v1/customers", customer, 201)
            if made is not None:
                self.written.append(made["data"]["id"])
                await self.timed("GET", f"/api/v1/customers/{made['data']['id']}", None, 200)
            await asyncio.sleep(PAUSE)

    async def lost_writes(self) -> list[int]:
        lost = []
        for customer_id in self.written:
            status, _ = await self.api.call("GET", f"/api/v1/customers/{customer_id}", self.token)
            if status != 200:
                lost.append(customer_id)
        return lost

    def report(self, lost: list[int]) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "requests": len(ordered),
            "failed": len(self.failures),
            "failures": self.failures[:20],
            "writes": len(self.written),
            "lost_writes": lost,
            "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1) if ordered else None,
            "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1) if ordered else None,
            "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
        }


async def load(api: Balancer, email: str, password: str, out: Path) -> None:
    login = {"email": email, "password": password, "device_name": "swarm-check-load"}
    token = expect(*await api.call("POST", "/api/v1/tokens", None, login), 201, "token")["token"]
    running = Load(api, token)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    (out / "started").touch()
    await asyncio.gather(*(running.worker(number, stop) for number in range(WORKERS)))
    report = running.report(await running.lost_writes())
    (out / "load.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report))


async def main(command: str, email: str, password: str, *rest: str) -> None:
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        api = Balancer(session)
        resolver = asyncio.create_task(api.resolve_forever())
        await api.resolved.wait()
        if command == "walkthrough":
            await walkthrough(api, email, password)
        else:
            await load(api, email, password, Path(rest[0]))
        resolver.cancel()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
