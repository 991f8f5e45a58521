"""What the benchmarks that run billing-service on the host share: a PostgreSQL container on
loopback, a stand-in for auth-service's JWKS, an identity JWT signed with its key, and waiting
for a service to answer."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import asyncpg
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm


def start_postgres(
    name: str, port: int, database: str = "billing", shm_size: str | None = None
) -> str:
    """A fresh postgres:15 on 127.0.0.1:`port` (`shm_size`: room in /dev/shm for parallel
    workers and VACUUM on a large dataset, e.g. "1g"); its DSN."""
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    shm = [f"--shm-size={shm_size}"] if shm_size else []
    subprocess.run(
        [
            "docker", "run", "-d", "--rm", "--name", name, *shm,
            "-p", f"127.0.0.1:{port}:5432",
            "-e", "POSTGRES_PASSWORD=bench", "-e", f"POSTGRES_DB={database}",
            "postgres:15", "-c", "shared_buffers=512MB", "-c", "synchronous_commit=on",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return f"postgresql://postgres:bench@127.0.0.1:{port}/{database}"


def stop_postgres(name: str) -> None:
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)


async def connect(dsn: str) -> asyncpg.Connection:
    """A connection, once the fresh server accepts one (a minute at most)."""
    for _ in range(120):
        try:
            return await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(0.5)
    raise RuntimeError("PostgreSQL did not start")


def serve_jwks(key: Ed25519PrivateKey, port: int) -> None:
    """The benchmark's stand-in for auth-service's JWKS, on its own thread and loop (the
    main loop makes blocking calls)."""
    jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key())) | {"kid": "bench", "alg": "EdDSA"}

    async def jwks(_: web.Request) -> web.Response:
        return web.json_response({"keys": [jwk]})

    def run() -> None:
        app = web.Application()
        app.router.add_get("/internal/jwks", jwks)
        web.run_app(
            app,
            host="127.0.0.1",
            port=port,
            print=None,
            handle_signals=False,
            loop=asyncio.new_event_loop(),
        )

    threading.Thread(target=run, daemon=True).start()


def identity_jwt(key: Ed25519PrivateKey, user_id: int = 1) -> str:
    claims = {
        "iss": "auth-service",
        "aud": "internal",
        "sub": str(user_id),
        "tid": 1,
        "abilities": ["*"],
        "kind": "member",
        "exp": int(time.time()) + 3600,
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "bench"})


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def start_billing(dsn: str, jwks_port: int, port: int, **settings: str) -> subprocess.Popen[bytes]:
    """billing-service as a local process on 127.0.0.1:`port` (its settings as environment
    variables), once it answers."""
    env = os.environ | {
        "DATABASE_URL": dsn,
        "AUTH_JWKS_URL": f"http://127.0.0.1:{jwks_port}/internal/jwks",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    billing = subprocess.Popen(
        [sys.executable, "-m", "billing_service"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return billing
