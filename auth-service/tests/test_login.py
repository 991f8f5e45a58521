"""Login (bcrypt hashes from Laravel, throttling), the profile, routes that need an identity JWT,
and users the CLI creates, against the real auth-service."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import bcrypt

from .token_helpers import post


async def test_login_returns_token_and_user(auth, http):
    user = await auth.user()
    status, body, _ = await post(
        http,
        f"{auth.url}/api/v1/login",
        {"email": user.email.upper(), "password": user.password, "device_name": "cli"},
    )
    assert status == 200
    assert body["user"] == {"id": user.id, "name": "Test User", "email": user.email}
    assert body["token"].startswith(f"{int(body['token'].split('|')[0])}|")


async def test_laravel_bcrypt_hash_verifies_and_is_rehashed(auth, http):
    from auth_service.keys import POOL

    user = await auth.user()
    laravel_hash = bcrypt.hashpw(b"from-laravel", bcrypt.gensalt(rounds=4)).decode()
    laravel_hash = "$2y$" + laravel_hash[4:]
    pool = auth.app[POOL]
    await pool.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user.id, laravel_hash)
    status, _, _ = await post(
        http,
        f"{auth.url}/api/v1/login",
        {"email": user.email, "password": "from-laravel", "device_name": "d"},
    )
    assert status == 200
    stored = await pool.fetchval("SELECT password_hash FROM users WHERE id = $1", user.id)
    assert stored.startswith("$argon2id$")
    status, _, _ = await post(
        http,
        f"{auth.url}/api/v1/login",
        {"email": user.email, "password": "from-laravel", "device_name": "d"},
    )
    assert status == 200


async def test_failed_logins_are_throttled_per_email_and_ip(auth, http):
    user = await auth.user()
    bad = {"email": user.email, "password": "nope", "device_name": "d"}
    statuses = [(await post(http, f"{auth.url}/api/v1/login", bad))[0] for _ in range(5)]
    assert statuses == [422] * 5
    status, body, headers = await post(http, f"{auth.url}/api/v1/login", bad)
    assert status == 429
    assert body["error_code"] == "RATE_LIMITED"
    assert int(headers["Retry-After"]) >= 1
    # Even the right password waits: the window is for this e-mail from this address.
    good = bad | {"password": user.password}
    assert (await post(http, f"{auth.url}/api/v1/login", good))[0] == 429
    # Another client address is not affected.
    other_ip = {"X-Forwarded-For": "203.0.113.9"}
    assert (await post(http, f"{auth.url}/api/v1/login", good, other_ip))[0] == 200


async def test_successful_login_clears_failures(auth, http):
    user = await auth.user()
    bad = {"email": user.email, "password": "nope", "device_name": "d"}
    good = bad | {"password": user.password}
    for _ in range(4):
        assert (await post(http, f"{auth.url}/api/v1/login", bad))[0] == 422
    assert (await post(http, f"{auth.url}/api/v1/login", good))[0] == 200
    for _ in range(4):
        assert (await post(http, f"{auth.url}/api/v1/login", bad))[0] == 422


async def test_profile_needs_its_abilities(auth, http):
    reader = await auth.bearer(["profile:read"])
    async with http.get(f"{auth.url}/api/v1/profile", headers=reader) as response:
        body = await response.json()
        assert response.status == 200
        assert body["data"]["first_name"] == "Test"
    async with http.put(
        f"{auth.url}/api/v1/profile", json={"city": "Cape Town"}, headers=reader
    ) as response:
        assert response.status == 403
        assert (await response.json())["error_code"] == "FORBIDDEN"
    other = await auth.bearer(["invoices:read"])
    async with http.get(f"{auth.url}/api/v1/profile", headers=other) as response:
        assert response.status == 403


async def test_profile_update_validates_and_accepts_seed_spellings(auth, http):
    bearer = await auth.bearer(["profile:*"])
    url = f"{auth.url}/api/v1/profile"
    async with http.put(
        url, json={"firstname": "Jane", "phonenumber": "+2721"}, headers=bearer
    ) as r:
        data = (await r.json())["data"]
        assert r.status == 200
        assert (data["first_name"], data["phone"], data["name"]) == ("Jane", "+2721", "Jane User")
    async with http.put(url, json={"email": "not-an-email"}, headers=bearer) as r:
        assert r.status == 422
        assert "email" in (await r.json())["errors"]
    async with http.put(url, json={"postcode": "x" * 40}, headers=bearer) as r:
        assert r.status == 422


async def test_protected_routes_need_an_identity_jwt(auth, http):
    for headers in ({}, {"Authorization": "Bearer garbage"}, {"Authorization": "Basic abc"}):
        async with http.get(f"{auth.url}/api/v1/me", headers=headers) as response:
            assert response.status == 401
            assert await response.json() == {
                "success": False,
                "error": "unauthorized",
                "message": "Unauthenticated.",
                "error_code": "UNAUTHORIZED",
            }


async def test_cli_creates_a_user_who_can_log_in(auth_settings, auth, http):
    env = {
        "DATABASE_URL": auth_settings.database_url,
        "PATH": "/usr/bin:/bin",
        # The cost settings come from the environment, as in a container.
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_COST": "8",
        "PASSWORD_HASH_PARALLELISM": "1",
    }
    command = [
        sys.executable,
        "-m",
        "auth_service",
        "create-user",
        "--email",
        "cli@example.com",
        "--password",
        "cli-password-1",
        "--name",
        "Cli User",
    ]

    async def run() -> tuple[int | None, str, str]:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode, stdout.decode(), stderr.decode()

    code, stdout, stderr = await run()
    assert code == 0, stderr
    assert "cli@example.com" in stdout
    code, _, stderr = await run()
    assert code == 1
    assert "already exists" in stderr
    from auth_service.keys import POOL

    stored = await auth.app[POOL].fetchval(
        "SELECT password_hash FROM users WHERE email = 'cli@example.com'"
    )
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    credentials = {"email": "cli@example.com", "password": "cli-password-1", "device_name": "d"}
    status, body, _ = await post(http, f"{auth.url}/api/v1/login", credentials)
    assert status == 200, body
