"""Personal access tokens: issuing, introspection for the gateway, revocation, usage."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import redis.asyncio as redis

from auth_service.repositories import tokens as token_repo
from auth_service.repositories import users as user_repo
from auth_service.repositories.tokens import AccessToken
from auth_service.services import grants
from auth_service.services.grants import Grant
from auth_service.services.signing import SigningKeys
from auth_service.settings import Settings
from shared.clock import Clock
from shared.errors import ServiceUnavailable, TokenExpired, Unauthorized
from shared.logging import get_logger
from shared.tokens import cache_key_for, hash_secret, parse_token

_ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 40

log = get_logger("auth.tokens")


@dataclass(frozen=True)
class IssuedToken:
    plain_text: str  # shown once, never stored
    record: AccessToken


@dataclass(frozen=True)
class Introspection:
    user_id: int
    token_id: int
    kind: str
    abilities: list[str]
    identity_jwt: str
    exp: int


class TokenService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        redis_client: redis.Redis,
        keys: SigningKeys,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._redis = redis_client
        self._keys = keys
        self._settings = settings
        self._used: set[int] = set()

    def grant(
        self,
        requested: list[str] | None,
        *,
        expires_at: datetime | None,
        expires_in_days: int | None,
    ) -> Grant:
        """What a token request may get (services.grants), as of now; 422 on a field."""
        return grants.grant(
            requested,
            expires_at=expires_at,
            expires_in_days=expires_in_days,
            now=self._clock(),
        )

    async def issue(
        self, *, user_id: int, name: str, abilities: list[str], expires_at: datetime | None
    ) -> IssuedToken:
        secret = self._settings.token_prefix + "".join(
            secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH)
        )
        record = await token_repo.insert(
            self._pool,
            user_id=user_id,
            name=name,
            token_hash=hash_secret(secret),
            abilities=abilities,
            expires_at=expires_at,
        )
        return IssuedToken(f"{record.id}|{secret}", record)

    async def introspect(self, plain_text: str) -> Introspection:
        parsed = parse_token(plain_text)
        if parsed is None:
            raise Unauthorized()
        owner = await token_repo.with_owner(self._pool, parsed.token_id, parsed.secret_hash)
        if owner is None or not hmac.compare_digest(owner.token.token, parsed.secret_hash):
            raise Unauthorized()
        token = owner.token
        now = self._clock()
        if token.expires_at is not None and token.expires_at <= now:
            raise TokenExpired()
        exp = int(now.timestamp()) + self._settings.identity_ttl_seconds
        if token.expires_at is not None:
            exp = min(exp, int(token.expires_at.timestamp()))
        self._used.add(token.id)
        identity_jwt = self._keys.sign_identity(
            user_id=token.user_id,
            token_id=token.id,
            abilities=token.abilities,
            kind=owner.user_kind,
            issued_at=int(now.timestamp()),
            exp=exp,
        )
        return Introspection(
            token.user_id, token.id, owner.user_kind, token.abilities, identity_jwt, exp
        )

    async def list_for(self, user_id: int) -> list[AccessToken]:
        return await token_repo.for_user(self._pool, user_id)

    async def revoke(self, *, user_id: int, token_id: int) -> bool:
        """Delete the token and, in the same transaction, tombstone the gateway's cache entry."""
        async with self._pool.acquire() as conn, conn.transaction():
            token_hash = await token_repo.delete_own(conn, token_id, user_id)
            if token_hash is None:
                return False
            await self.tombstone([token_hash])
        return True

    async def delete_user(self, user_id: int) -> bool:
        """Delete a user and revoke every token of theirs at once (the gateway may hold any
        of them in its cache); False when there was no such user."""
        async with self._pool.acquire() as conn, conn.transaction():
            token_hashes = await token_repo.delete_all_of_user(conn, user_id)
            if not await user_repo.delete(conn, user_id):
                return False
            await self.tombstone(token_hashes)
        return True

    async def tombstone(self, token_hashes: list[str]) -> None:
        """Refuse these tokens at every gateway from the next request on.

        Called inside the transaction that deletes them, so a failure here undoes the delete.
        The cache has one key per token (shared.tokens: keyed by the secret's hash alone), so
        one tombstone covers every form a client may send. A tombstone (not a plain DEL) also
        beats a gateway that introspected just before the delete and is about to cache the
        identity: its cache write is SET NX.
        """
        if not token_hashes:
            return
        prefix = self._settings.token_cache_prefix
        ttl = self._settings.revocation_tombstone_seconds
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for token_hash in token_hashes:
                    pipe.set(cache_key_for(prefix, token_hash), "!UNAUTHORIZED", ex=ttl)
                await pipe.execute()
        except redis.RedisError:
            # Without the tombstone a gateway could keep serving the token: refuse instead.
            raise ServiceUnavailable("The token could not be revoked; try again.") from None

    async def flush_usage(self) -> None:
        """Write last_used_at for the tokens used since the last flush, in one statement."""
        if not self._used:
            return
        used, self._used = list(self._used), set()
        await token_repo.touch(self._pool, used, self._clock())

    async def flush_usage_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.last_used_flush_seconds)
            try:
                await self.flush_usage()
            except (asyncpg.PostgresError, OSError):
                log.warning("last_used_flush_failed", exc_info=True)
