"""The bearer-token format both the gateway and auth-service must agree on.

Tokens are Sanctum's `<id>|<secret>`; a bare `<secret>` is also accepted, as Sanctum does.
Only a SHA-256 of the secret is ever stored, and the gateway's identity cache is keyed by the
token id plus that hash, so auth-service can overwrite the cache entry when revoking.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class BearerToken:
    token_id: int | None
    secret_hash: str

    def cache_key(self, prefix: str) -> str:
        return f"{prefix}{self.token_id or 0}:{self.secret_hash}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> BearerToken | None:
    """Parse a plain token; None when it cannot be a token of ours."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    token_id, sep, secret = token.partition("|")
    if not sep:
        return BearerToken(None, hash_secret(token))
    if not token_id.isdigit() or not secret or len(token_id) > 18:
        return None
    return BearerToken(int(token_id), hash_secret(secret))


def cache_key_for(prefix: str, token_id: int | None, secret_hash: str) -> str:
    return BearerToken(token_id, secret_hash).cache_key(prefix)
