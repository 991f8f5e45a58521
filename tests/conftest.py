"""The whole platform from docker-compose.yml, exercised only through the gateway's port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from testcontainers.compose import DockerCompose

ROOT = Path(__file__).resolve().parents[1]
# Several checkouts on one engine each name their own stack (STACK_PROJECT).
PROJECT = os.environ.get("STACK_PROJECT", "invoicing-stacktest")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the compose stack is a `stack` test: `scripts/test` leaves them out,
    `scripts/test --all` runs them after the others, in one process (so one stack)."""
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.stack)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    compose: DockerCompose
    base_url: str
    env_file: Path
    # The one origin CORS_ORIGINS allows: a page the browser test serves on this address.
    page_origin: str

    def compose_command(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "compose", "--env-file", str(self.env_file), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def create_user(self, kind: str = "member") -> tuple[str, str]:
        email = f"stack-{uuid.uuid4().hex[:10]}@example.com"
        password = "stack-password-1"
        self.compose_command(
            "exec",
            "-T",
            "auth-service",
            "python",
            "-m",
            "auth_service",
            "create-user",
            "--email",
            email,
            "--password",
            password,
            "--name",
            "Stack User",
            "--kind",
            kind,
        )
        return email, password

    def sql(self, database: str, statement: str) -> str:
        done = self.compose_command(
            "exec", "-T", "postgres", "psql", "-U", "postgres", "-d", database, "-tAc", statement
        )
        return done.stdout.strip()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    port = _free_port()
    page_origin = f"http://127.0.0.1:{_free_port()}"
    # Compose settings go through an env file, never this process's environment, which the
    # service tests' settings read.
    env_file = tmp_path_factory.mktemp("stack") / "stack.env"
    env_file.write_text(
        f"COMPOSE_PROJECT_NAME={PROJECT}\n"
        # The webhook receiver the webhook tests deliver to, on the compose network.
        "COMPOSE_FILE=docker-compose.yml:tests/stack/compose.webhooks.yml\n"
        "WEBHOOK_ALLOWED_NETWORKS=10.0.0.0/8,172.16.0.0/12,192.168.0.0/16\n"
        # A delivery cut off by a killed replica is claimed again after this lease.
        "WEBHOOK_LEASE_SECONDS=15\n"
        f"GATEWAY_PORT={port}\n"
        # Every stack test creates its tokens from 127.0.0.1; the per-IP policy itself is
        # tested with a small limit in gateway/tests.
        "RATE_LIMIT_UNAUTHENTICATED=100000\n"
        "RATE_LIMIT_LOGIN=100000\n"
        # Links in answers start with the address the tests reach the gateway at.
        f"PUBLIC_BASE_URL=http://127.0.0.1:{port}\n"
        f"CORS_ORIGINS={page_origin}\n"
    )
    compose = DockerCompose(ROOT, build=True, wait=True, quiet_build=True, env_file=str(env_file))
    try:
        compose.start()  # a start that fails half-way is taken down too
        yield Stack(compose, f"http://127.0.0.1:{port}", env_file, page_origin)
    finally:
        if os.environ.get("KEEP_STACK") != "1":
            compose.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Accept": "application/json"}) as session:
        yield session


@pytest.fixture
def send(stack: Stack, http: aiohttp.ClientSession):
    """A JSON request through the gateway, as a seed's client sends it: (status, body)."""

    async def request(method: str, path: str, token: str | None = None, body: object = None):
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body) if body is not None else None
        async with http.request(
            method, stack.base_url + path, headers=headers, data=data
        ) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None)

    return request


@pytest.fixture
def login(send):
    """InvoiceMee's login (`POST /api/login`): the token of a full-access session."""

    async def log_in(email: str, password: str) -> str:
        status, body = await send(
            "POST",
            "/api/login",
            None,
            {"email": email, "password": password, "device_name": "my-app"},
        )
        assert status == 200, body
        return str(body["token"])

    return log_in


@dataclass
class Client:
    """A user of the platform holding a token, as an API consumer would."""

    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def new_client(stack: Stack, http: aiohttp.ClientSession):
    async def make(abilities: list[str] | None = None, kind: str = "member") -> Client:
        email, password = stack.create_user(kind)
        body: dict[str, object] = {"email": email, "password": password, "device_name": "tests"}
        if abilities is not None:
            body["abilities"] = abilities
        async with http.post(f"{stack.base_url}/api/v1/tokens", json=body) as response:
            assert response.status == 201, await response.text()
            token = (await response.json())["token"]
        return Client(email, password, token)

    return make


@pytest.fixture
def issue_token(send):
    """`POST /api/v1/tokens` as the seeds' examples send it; its answer."""

    async def issue(
        email: str,
        password: str,
        device_name: str,
        abilities: list[str] | None = None,
        **extra: object,
    ) -> dict[str, object]:
        body: dict[str, object] = {"email": email, "password": password, **extra}
        body["device_name"] = device_name
        if abilities is not None:
            body["abilities"] = abilities
        status, answer = await send("POST", "/api/v1/tokens", None, body)
        assert status == 201, answer
        return dict(answer)

    return issue


@dataclass
class Portal:
    """INNOVATECH's setting: a member's company, a customer, the customer's portal user."""

    member_email: str
    member_password: str
    member: str  # the member's token
    customer_id: int
    email: str  # the client-portal user's login
    password: str


@pytest.fixture
def innovatech_portal(stack: Stack, send, login):
    async def make() -> Portal:
        email, password = stack.create_user()
        member = await login(email, password)
        await send("POST", "/api/v1/companies", member, {"name": "INNOVATECH GROUP"})
        status, customer = await send(
            "POST",
            "/api/v1/customers",
            member,
            {
                "company_name": "Mokoena Trading (Pty) Ltd",
                "email": "accounts@mokoena.example",
                "currency": "ZAR",
            },
        )
        assert status == 201, customer
        customer_id = customer["data"]["id"]
        client = {"email": f"jane-{customer_id}@mokoena.example", "password": "portal-password-1"}
        status, contact = await send(
            "POST",
            f"/api/v1/recipients/{customer_id}/contacts",
            member,
            client | {"name": "Jane Mokoena"},
        )
        assert status == 201, contact
        return Portal(email, password, member, customer_id, client["email"], client["password"])

    return make
