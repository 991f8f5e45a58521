"""Ed25519 signing keys kept in the database, so every replica signs and publishes alike."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from auth_service.repositories import signing_keys as repo
from shared.identity import ALGORITHM, AUDIENCE, ISSUER

_KEY_CREATION_LOCK = 0x6B657973


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    public_jwk: dict[str, Any]


def _new_key() -> tuple[str, str, dict[str, Any]]:
    private_key = Ed25519PrivateKey.generate()
    kid = uuid.uuid4().hex
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = json.loads(OKPAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    return kid, pem, jwk


def _load(row: asyncpg.Record) -> SigningKey:
    private_key = serialization.load_pem_private_key(row["private_pem"].encode(), password=None)
    assert isinstance(private_key, Ed25519PrivateKey)
    return SigningKey(row["kid"], private_key, json.loads(row["public_jwk"]))


class SigningKeys:
    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise RuntimeError("no signing key available")
        self._keys = keys  # newest first

    @classmethod
    async def load_or_create(cls, pool: asyncpg.Pool) -> SigningKeys:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _KEY_CREATION_LOCK)
            rows = await conn.fetch(repo.ACTIVE_KEYS)
            if not rows:
                kid, pem, jwk = _new_key()
                await conn.execute(repo.INSERT_KEY, kid, pem, json.dumps(jwk))
                rows = await conn.fetch(repo.ACTIVE_KEYS)
        return cls([_load(row) for row in rows])

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk for key in self._keys]}

    def sign_identity(
        self,
        *,
        user_id: int,
        token_id: int | None,
        abilities: list[str],
        kind: str,
        issued_at: int,
        exp: int,
    ) -> str:
        key = self._keys[0]
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(user_id),
            "tid": token_id,
            "abilities": abilities,
            "kind": kind,
            "iat": issued_at,
            "exp": exp,
        }
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
