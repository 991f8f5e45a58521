"""Fixtures every service's tests share: real PostgreSQL and Redis from testcontainers, and
the real auth-service running in-process (the source of tokens, identity JWTs and JWKS)."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from jsonschema import Draft202012Validator

# Import the real packages before pytest imports `gateway/tests/conftest.py` and
# `shared/tests/...`: in importlib mode it would otherwise register placeholder modules named
# `gateway` and `shared` (after the folders) that hide the installed packages.
import gateway  # noqa: F401
import shared  # noqa: F401

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from testcontainers.postgres import PostgresContainer
    from testcontainers.redis import RedisContainer

SERVICE_DATABASES = ("auth", "billing", "pdf")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL 15 server with one database per service; yields a URL template."""
    # A database that is thrown away: kept in memory and never synced to disk, so the tests
    # wait on no other process's disk writes.
    container = (
        PostgresContainer("postgres:15", driver=None)
        .with_tmpfs_mount("/var/lib/postgresql/data")
        .with_command("postgres -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
    )
    with container:
        url = container.get_connection_url()
        yield url.rsplit("/", 1)[0] + "/{database}"


@pytest.fixture(scope="session")
async def database_urls(postgres_server: str) -> dict[str, str]:
    admin = await asyncpg.connect(postgres_server.format(database="test"))
    try:
        for name in SERVICE_DATABASES:
            await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return {name: postgres_server.format(database=name) for name in SERVICE_DATABASES}


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with RedisContainer("redis:7") as container:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(6379)
        yield f"redis://{host}:{port}/0"


INTERNAL_SECRET = "test-internal-secret-0123456789"


@pytest.fixture(scope="session")
def auth_settings(database_urls: dict[str, str], redis_url: str) -> object:
    from auth_service.settings import Settings

    return Settings(
        environment="test",
        database_url=database_urls["auth"],
        redis_url=redis_url,
        internal_secret=INTERNAL_SECRET,
        log_json=False,
        log_level="WARNING",
        # argon2id at its cheapest: tests create hundreds of users, production hashes cost
        # ~100 ms each (the settings refuse these values outside development and test).
        password_hash_time_cost=1,
        password_hash_memory_cost=8,
        password_hash_parallelism=1,
    )


@pytest.fixture(scope="session")
def pdf_settings(database_urls: dict[str, str], jwks_url: str) -> Callable[..., object]:
    """pdf-service settings for tests, with `overrides`: one render worker (each is a process
    to spawn, and a test renders a few documents at most)."""
    from pdf_service.settings import Settings

    def make(**overrides: object) -> object:
        values: dict[str, object] = {
            "environment": "test",
            "database_url": database_urls["pdf"],
            "auth_jwks_url": jwks_url,
            "internal_secret": INTERNAL_SECRET,
            "url_signing_secret": "test-url-signing-secret-0123456789",
            "render_workers": 1,
            "log_json": False,
            "log_level": "WARNING",
        }
        return Settings(**(values | overrides))  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
async def auth_server(auth_settings: object) -> AsyncIterator[TestServer]:
    """The real auth-service, served on a loopback port for the whole session."""
    from auth_service.app import create_app

    server = TestServer(create_app(auth_settings))  # type: ignore[arg-type]
    await server.start_server()
    yield server
    await server.close()


@dataclass
class IssuedUser:
    id: int
    email: str
    password: str
    token: str  # plain-text personal access token
    token_id: int


@dataclass
class Auth:
    """Makes users and tokens through auth-service's own services (no shortcuts in SQL)."""

    app: web.Application
    url: str

    async def user(
        self,
        abilities: list[str] | None = None,
        *,
        kind: str = "member",
        expires_at: datetime | None = None,
        password: str = "correct horse battery",
    ) -> IssuedUser:
        from auth_service.keys import ACCOUNTS, TOKENS

        email = f"user-{uuid.uuid4().hex[:12]}@example.com"
        user = await self.app[ACCOUNTS].create_user(
            email=email, password=password, name="Test User", kind=kind
        )
        issued = await self.app[TOKENS].issue(
            user_id=user.id, name="tests", abilities=abilities or ["*"], expires_at=expires_at
        )
        return IssuedUser(user.id, email, password, issued.plain_text, issued.record.id)

    async def identity_jwt(self, token: str) -> str:
        from auth_service.keys import TOKENS

        return (await self.app[TOKENS].introspect(token)).identity_jwt

    async def bearer(
        self, abilities: list[str] | None = None, kind: str = "member"
    ) -> dict[str, str]:
        """Authorization header with an identity JWT, as the gateway sends it to backends."""
        user = await self.user(abilities, kind=kind)
        return {"Authorization": f"Bearer {await self.identity_jwt(user.token)}"}


@pytest.fixture(scope="session")
def auth(auth_server: TestServer) -> Auth:
    return Auth(auth_server.app, str(auth_server.make_url("")).rstrip("/"))


@pytest.fixture(scope="session")
def jwks_url(auth: Auth) -> str:
    return f"{auth.url}/internal/jwks"


class AnswerSchemas:
    """Checks real answers against a service's generated OpenAPI document: the status is one
    the operation documents, a JSON body matches its schema (components resolved, formats
    checked). Remembers which operations it has checked."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.checked: set[tuple[str, str]] = set()

    def check(self, method: str, route: str, status: int, body: Any) -> None:
        responses = self.document["paths"][route][method.lower()]["responses"]
        assert str(status) in responses, f"{method} {route}: {status} is not documented"
        content = responses[str(status)].get("content", {})
        if body is None:
            assert "application/json" not in content, f"{method} {route}: no JSON body"
        else:
            schema = content["application/json"]["schema"] | {
                "components": self.document["components"]
            }
            Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            ).validate(body)
        self.checked.add((method.upper(), route))


@pytest.fixture
def answer_schemas() -> type[AnswerSchemas]:
    return AnswerSchemas


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
