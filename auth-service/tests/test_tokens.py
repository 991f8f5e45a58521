"""Token issuance, introspection, listing and revocation against the real auth-service."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import redis.asyncio as redis

from shared.identity import AUDIENCE, ISSUER
from shared.tokens import cache_key_for, hash_secret

from .token_helpers import SECRET, post


async def test_token_without_abilities_gets_full_access(auth, http):
    user = await auth.user()
    status, body, _ = await post(
        http,
        f"{auth.url}/api/v1/tokens",
        {"email": user.email, "password": user.password, "device_name": "erp"},
    )
    assert status == 201
    assert body["abilities"] == ["*"]
    token_id, _, secret = body["token"].partition("|")
    assert token_id.isdigit() and len(secret) == 40
    assert body["expires_at"] is None


async def test_unknown_abilities_are_dropped_and_none_left_is_422(auth, http):
    user = await auth.user()
    creds = {"email": user.email, "password": user.password, "device_name": "erp"}
    status, body, _ = await post(
        http,
        f"{auth.url}/api/v1/tokens",
        creds | {"abilities": ["invoices:read", "nonsense", "invoices:download", "x:y"]},
    )
    assert status == 201
    assert body["abilities"] == ["invoices:read", "invoices:download"]
    status, body, _ = await post(
        http, f"{auth.url}/api/v1/tokens", creds | {"abilities": ["nonsense"]}
    )
    assert status == 422
    assert body["error_code"] == "VALIDATION_ERROR"
    assert "abilities" in body["errors"]


async def test_wrong_credentials_are_422_on_email(auth, http):
    user = await auth.user()
    status, body, _ = await post(
        http,
        f"{auth.url}/api/v1/tokens",
        {"email": user.email, "password": "wrong", "device_name": "erp"},
    )
    assert status == 422
    assert body["message"] == "The provided credentials are incorrect."
    assert body["errors"] == {"email": ["The provided credentials are incorrect."]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "x", "device_name": "d"}, "email"),
        ({"email": "a@b.co", "device_name": "d"}, "password"),
        ({"email": "a@b.co", "password": "x"}, "device_name"),
        ({"email": "a@b.co", "password": "x", "device_name": "d" * 256}, "device_name"),
        ({"email": "a@b.co", "password": "x", "device_name": 5}, "device_name"),
        ({"email": "a@b.co", "password": "x", "device_name": "d", "abilities": "*"}, "abilities"),
        (
            {"email": "a@b.co", "password": "x", "device_name": "d", "expires_at": "soon"},
            "expires_at",
        ),
        (
            {
                "email": "a@b.co",
                "password": "x",
                "device_name": "d",
                "expires_at": "2001-01-01T00:00:00Z",
            },
            "expires_at",
        ),
        (
            {"email": "a@b.co", "password": "x", "device_name": "d", "expires_in_days": 0},
            "expires_in_days",
        ),
    ],
)
async def test_bad_token_requests_name_the_field(auth, http, body, field):
    status, answer, _ = await post(http, f"{auth.url}/api/v1/tokens", body)
    assert status == 422, answer
    assert field in answer["errors"]
    assert answer["message"] == answer["errors"][field][0]


async def test_malformed_json_is_400(auth, http):
    async with http.post(f"{auth.url}/api/v1/tokens", data=b"{not json") as response:
        assert response.status == 400
        assert (await response.json())["error_code"] == "BAD_REQUEST"


async def test_expires_in_days_sets_expiry(auth, http):
    user = await auth.user()
    status, body, _ = await post(
        http,
        f"{auth.url}/api/v1/tokens",
        {"email": user.email, "password": user.password, "device_name": "d", "expires_in_days": 30},
    )
    assert status == 201
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)


async def test_introspection_gives_a_verifiable_identity_jwt(auth, http):
    user = await auth.user(["invoices:read"])
    status, body, _ = await post(
        http, f"{auth.url}/internal/introspect", {"token": user.token}, SECRET
    )
    assert status == 200
    async with http.get(f"{auth.url}/internal/jwks") as response:
        jwks = await response.json()
    key = jwt.PyJWKSet.from_dict(jwks).keys[0]
    claims = jwt.decode(
        body["identity_jwt"], key.key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER
    )
    assert claims["sub"] == str(user.id)
    assert claims["abilities"] == ["invoices:read"]
    assert claims["kind"] == "member"
    assert claims["tid"] == user.token_id
    assert claims["exp"] - datetime.now(UTC).timestamp() <= 300


async def test_introspection_refuses_bad_tokens(auth, http):
    user = await auth.user()
    token_id = user.token.split("|")[0]
    url = f"{auth.url}/internal/introspect"
    for token in (f"{token_id}|{'x' * 40}", "999999|whatever", "not-a-token", "1|"):
        status, body, _ = await post(http, url, {"token": token}, SECRET)
        assert (status, body["error_code"]) == (401, "UNAUTHORIZED"), token
    # Without the internal secret nobody may introspect.
    status, _, _ = await post(http, url, {"token": user.token})
    assert status == 401


async def test_expired_token_introspects_as_token_expired(auth, http):
    from auth_service.keys import POOL

    user = await auth.user(expires_at=datetime.now(UTC) + timedelta(hours=1))
    await auth.app[POOL].execute(
        "UPDATE personal_access_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
        user.token_id,
    )
    status, body, _ = await post(
        http, f"{auth.url}/internal/introspect", {"token": user.token}, SECRET
    )
    assert (status, body["error_code"]) == (401, "TOKEN_EXPIRED")


async def test_identity_jwt_never_outlives_the_token(auth, http):
    user = await auth.user(expires_at=datetime.now(UTC) + timedelta(seconds=90))
    _, body, _ = await post(http, f"{auth.url}/internal/introspect", {"token": user.token}, SECRET)
    assert body["exp"] <= int(datetime.now(UTC).timestamp()) + 90


async def test_revocation_tombstones_the_gateway_cache(auth, auth_settings, http):
    user = await auth.user()
    bearer = {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    status, body, _ = await post(http, f"{auth.url}/api/v1/logout", {}, bearer)
    assert (status, body) == (200, {"success": True, "message": "Logged out successfully"})
    client = redis.Redis.from_url(auth_settings.redis_url)
    secret = user.token.split("|", 1)[1]
    key = cache_key_for("tok:", hash_secret(secret))
    assert await client.get(key) == b"!UNAUTHORIZED"
    assert 0 < await client.ttl(key) <= auth_settings.revocation_tombstone_seconds
    await client.aclose()
    status, _, _ = await post(
        http, f"{auth.url}/internal/introspect", {"token": user.token}, SECRET
    )
    assert status == 401


async def test_tokens_list_and_revoke_only_own(auth, http):
    owner, stranger = await auth.user(), await auth.user()
    bearer = {"Authorization": f"Bearer {await auth.identity_jwt(owner.token)}"}
    async with http.get(f"{auth.url}/api/v1/tokens", headers=bearer) as response:
        tokens = (await response.json())["data"]
    assert [t["id"] for t in tokens] == [owner.token_id]
    assert "token" not in tokens[0] and tokens[0]["is_current"] is True
    url = f"{auth.url}/api/v1/tokens/{stranger.token_id}"
    async with http.delete(url, headers=bearer) as response:
        assert response.status == 404
    async with http.delete(f"{auth.url}/api/v1/tokens/abc", headers=bearer) as response:
        assert response.status == 404


async def test_other_tokens_are_listed_and_revoked_only_with_the_tokens_ability(auth, http):
    from auth_service.keys import TOKENS

    user = await auth.user(["invoices:read"])
    other = await auth.app[TOKENS].issue(
        user_id=user.id, name="other", abilities=["*"], expires_at=None
    )
    narrow = {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    async with http.get(f"{auth.url}/api/v1/tokens", headers=narrow) as response:
        assert response.status == 403
        assert (await response.json())["error_code"] == "FORBIDDEN"
    other_url = f"{auth.url}/api/v1/tokens/{other.record.id}"
    async with http.delete(other_url, headers=narrow) as response:
        assert response.status == 403
    # Its own id needs no ability: that is logging out.
    own_url = f"{auth.url}/api/v1/tokens/{user.token_id}"
    async with http.delete(own_url, headers=narrow) as response:
        assert response.status == 204
    for abilities in (["tokens:read", "tokens:delete"], ["tokens:*"], ["*"]):
        holder = await auth.app[TOKENS].issue(
            user_id=user.id, name="admin", abilities=abilities, expires_at=None
        )
        bearer = {"Authorization": f"Bearer {await auth.identity_jwt(holder.plain_text)}"}
        async with http.get(f"{auth.url}/api/v1/tokens", headers=bearer) as response:
            assert response.status == 200, abilities
        victim = await auth.app[TOKENS].issue(
            user_id=user.id, name="victim", abilities=["*"], expires_at=None
        )
        url = f"{auth.url}/api/v1/tokens/{victim.record.id}"
        async with http.delete(url, headers=bearer) as response:
            assert response.status == 204, abilities


async def test_any_token_can_log_itself_out(auth, http):
    user = await auth.user(["profile:read"])
    bearer = {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    status, _, _ = await post(http, f"{auth.url}/api/v1/logout", {}, bearer)
    assert status == 200
    status, _, _ = await post(
        http, f"{auth.url}/internal/introspect", {"token": user.token}, SECRET
    )
    assert status == 401


async def test_deleting_a_user_deletes_its_tokens_and_is_404_after(auth, http):
    user = await auth.user()
    url = f"{auth.url}/internal/users/{user.id}"
    async with http.delete(url) as response:
        assert response.status == 401  # internal: only with the internal secret
    async with http.delete(url, headers=SECRET) as response:
        assert response.status == 204
    async with http.delete(url, headers=SECRET) as response:
        assert response.status == 404
    for bad in ("abc", "²", "1" * 19):
        async with http.delete(f"{auth.url}/internal/users/{bad}", headers=SECRET) as response:
            assert response.status == 404, bad
    status, _, _ = await post(
        http, f"{auth.url}/internal/introspect", {"token": user.token}, SECRET
    )
    assert status == 401


async def test_last_used_at_is_written_in_batches(auth, http):
    from auth_service.keys import POOL, TOKENS

    user = await auth.user()
    await auth.identity_jwt(user.token)
    pool = auth.app[POOL]
    query = "SELECT last_used_at FROM personal_access_tokens WHERE id = $1"
    assert await pool.fetchval(query, user.token_id) is None
    await auth.app[TOKENS].flush_usage()
    assert await pool.fetchval(query, user.token_id) is not None


async def test_concurrent_introspections_of_one_token_agree(auth, http):
    user = await auth.user()
    results = await asyncio.gather(
        *(
            post(http, f"{auth.url}/internal/introspect", {"token": user.token}, SECRET)
            for _ in range(20)
        )
    )
    assert {status for status, _, _ in results} == {200}
