"""A verified identity JWT is remembered until its expiry, by its exact bytes, in a bounded LRU:
a token verified once is not verified again, and nothing unverified is ever let through."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from shared.errors import Unauthorized
from shared.identity import IdentityVerifier

KEY = Ed25519PrivateKey.generate()


async def _jwks() -> dict[str, Any]:
    public = json.loads(OKPAlgorithm.to_jwk(KEY.public_key()))
    return {"keys": [public | {"kid": "k1", "alg": "EdDSA"}]}


def _token(user_id: int = 7, *, expires_in: int = 300, key: Ed25519PrivateKey = KEY) -> str:
    claims = {
        "iss": "auth-service",
        "aud": "internal",
        "sub": str(user_id),
        "abilities": ["invoices:read"],
        "exp": int(time.time()) + expires_in,
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "k1"})


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_a_verified_token_is_not_verified_again_until_it_expires() -> None:
    clock = Clock()
    verifier = IdentityVerifier(_jwks, clock=clock)
    token = _token(expires_in=60)
    first = await verifier.verify(token)
    assert (await verifier.verify(token)) == first and first.user_id == 7
    assert verifier.verifications == 1
    clock.now += 61  # past `exp` by the cache's clock: forgotten, its signature checked again
    assert (await verifier.verify(token)) == first  # (PyJWT's clock is the real one)
    assert verifier.verifications == 2


async def test_only_the_exact_bytes_verified_are_remembered() -> None:
    verifier = IdentityVerifier(_jwks)
    token = _token()
    await verifier.verify(token)
    header, payload, _ = token.split(".")
    forged = _token(key=Ed25519PrivateKey.generate())  # the same claims, another key
    for attempt in (forged, f"{header}.{payload}.{forged.split('.')[2]}", token + "x"):
        with pytest.raises(Unauthorized):
            await verifier.verify(attempt)
    assert verifier.verifications == 4  # none of them came from the cache


async def test_refused_tokens_are_not_remembered_and_the_cache_is_bounded() -> None:
    verifier = IdentityVerifier(_jwks, cache_size=2)
    expired = _token(expires_in=-1)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            await verifier.verify(expired)
    assert verifier.verifications == 2
    tokens = [_token(user_id) for user_id in (1, 2, 3)]
    for token in tokens:
        await verifier.verify(token)
    await verifier.verify(tokens[2])  # still remembered
    assert verifier.verifications == 5
    await verifier.verify(tokens[0])  # the least recently used one was dropped
    assert verifier.verifications == 6
