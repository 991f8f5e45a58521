"""The guard's one Redis connection (gateway/redis_pipe.py) survives what Redis does to it:
its scripts flushed (NOSCRIPT: loaded again) and its connection killed (connected again)."""

from __future__ import annotations

from gateway.redis_pipe import NAME

from .request_helpers import bearer


async def test_flushed_scripts_and_a_killed_connection_are_recovered_from(
    gateway, auth, redis_client
):
    client = await gateway()
    user = await auth.user()
    assert (await client.get("/api/v1/x", headers=bearer(user.token))).status == 200
    await redis_client.script_flush()
    flushed = await client.get("/api/v1/x", headers=bearer(user.token))
    assert flushed.status == 200
    assert flushed.headers["X-RateLimit-Remaining"] == "58"  # counted in Redis, not locally
    # Only the guards' connections (others' clients share this Redis).
    guards = [c["id"] for c in await redis_client.client_list() if c.get("name") == NAME]
    assert guards  # this gateway's is among them
    for guard in guards:
        await redis_client.client_kill_filter(_id=guard)
    killed = await client.get("/api/v1/x", headers=bearer(user.token))
    assert killed.status == 200
    assert killed.headers["X-RateLimit-Remaining"] == "57"
