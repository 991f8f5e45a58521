"""The bearer-token format both the gateway and auth-service must agree on.

Tokens are Sanctum's `<id>|<secret>`; a bare `<secret>` is also accepted, as Sanctum does.
Only a SHA-256 of the secret is ever stored.

The gateway's identity cache is keyed by that hash ALONE, not by the form the token was sent
in. Both forms of one token then share one cache entry, so the one tombstone auth-service
writes on revocation refuses every form on the very next request: there is no second key that
a revocation path could forget (keyed by `<id>:<hash>`, a bare secret lived on under
`0:<hash>` for minutes after a logout). The hash identifies the token on its own (it is unique
in auth-service's table); the id part is only checked against the token the hash belongs to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from shared.validation import ascii_int

MAX_TOKEN_LENGTH = 512
MAX_ID_DIGITS = 18  # below 2**63: a bigint in PostgreSQL


@dataclass(frozen=True)
class BearerToken:
    token_id: int | None  # the `<id>|` part, when the client sent one
    secret: str = field(repr=False)  # never printed: it is the credential
    secret_hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "secret_hash", hash_secret(self.secret))

    def cache_key(self, prefix: str) -> str:
        return cache_key_for(prefix, self.secret_hash)

    def matches(self, token_id: int) -> bool:
        """Whether the id part, if one was sent, names the token the secret belongs to."""
        return self.token_id is None or self.token_id == token_id


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> BearerToken | None:
    """Parse a plain token; None when it cannot be a token of ours."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if not (token.isascii() and token.isprintable()):
        return None  # every token we issue is printable ASCII (and bytes that are not can't hash)
    token_id, sep, secret = token.partition("|")
    if not sep:
        return BearerToken(None, token)
    number = ascii_int(token_id, MAX_ID_DIGITS)
    if number is None or not secret:
        return None
    return BearerToken(number, secret)


def cache_key_for(prefix: str, secret_hash: str) -> str:
    """The one cache key of a token, whichever form it is sent in."""
    return f"{prefix}{secret_hash}"
