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


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    public_jwk: dict[str, Any]


def _new_key() -> repo.StoredKey:
    private_key = Ed25519PrivateKey.generate()
    kid = uuid.uuid4().hex
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = json.loads(OKPAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    return repo.StoredKey(kid, pem, jwk)


def _load(stored: repo.StoredKey) -> SigningKey:
    private_key = serialization.load_pem_private_key(stored.private_pem.encode(), password=None)
    assert isinstance(private_key, Ed25519PrivateKey)
    return SigningKey(stored.kid, private_key, stored.public_jwk)


class SigningKeys:
    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise RuntimeError("no signing key available")
        self._keys = keys  # newest first

    @classmethod
    async def load_or_create(cls, pool: asyncpg.Pool) -> SigningKeys:
        return cls([_load(stored) for stored in await repo.active_or_first(pool, _new_key)])

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
