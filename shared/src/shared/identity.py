"""Internal identity JWTs (EdDSA, signed by auth-service) and their verification by backends."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web

from shared.abilities import grants
from shared.errors import Forbidden, Unauthorized
from shared.logging import get_logger

ISSUER = "auth-service"
AUDIENCE = "internal"
ALGORITHM = "EdDSA"

log = get_logger("shared.identity")


@dataclass(frozen=True)
class Identity:
    """Who a request acts for, as the gateway vouched for it with an identity JWT."""

    user_id: int
    token_id: int | None
    abilities: tuple[str, ...]
    kind: str  # "member" or "client"
    expires_at: int

    def can(self, ability: str) -> bool:
        return grants(self.abilities, ability)

    def require(self, ability: str) -> None:
        if not self.can(ability):
            raise Forbidden(f"This token lacks the '{ability}' ability.")

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Identity:
        tid = claims.get("tid")
        return cls(
            user_id=int(claims["sub"]),
            token_id=int(tid) if tid is not None else None,
            abilities=tuple(claims.get("abilities", ())),
            kind=str(claims.get("kind", "member")),
            expires_at=int(claims["exp"]),
        )


JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


class IdentityVerifier:
    """Verifies identity JWTs against auth-service's JWKS, cached by `kid`.

    An unknown `kid` (keys rotated) triggers a refetch, at most once per `refresh_interval`
    so a flood of forged kids cannot turn into a flood of JWKS requests.

    A verified token is remembered until its expiry (a bounded LRU keyed by the whole token,
    signature included, so only the exact bytes verified match): a client's requests carry
    the same identity JWT until the gateway's cache renews it, and an Ed25519 verification
    per request was most of a backend's authentication cost. Revocation is the gateway's
    job (its tombstone refuses the client's token on the next request, and the gateway then
    sends no identity JWT); the identity JWT itself lives minutes (auth-service's
    IDENTITY_TTL_SECONDS), and a retired signing key is trusted for the remembered tokens
    until they expire, as it would be without the cache until they were presented again.
    """

    def __init__(
        self,
        fetch_jwks: JwksFetcher,
        *,
        refresh_interval: float = 10.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch_jwks = fetch_jwks
        self._keys: dict[str, Any] = {}
        self._refresh_interval = refresh_interval
        self._last_refresh = -refresh_interval
        self._lock = asyncio.Lock()
        self._verified: OrderedDict[str, Identity] = OrderedDict()
        self._cache_size = cache_size
        self._clock = clock
        self.verifications = 0  # signatures checked (the cache's misses)

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._last_refresh < self._refresh_interval:
                return
            self._last_refresh = time.monotonic()
            jwks = await self._fetch_jwks()
            keys = {}
            for entry in jwks.get("keys", []):
                key = jwt.PyJWK.from_dict(entry)
                keys[str(key.key_id)] = key.key
            self._keys = keys

    async def _key_for(self, kid: str) -> Any:
        key = self._keys.get(kid)
        if key is None:
            try:
                await self._refresh()
            except Exception:
                log.warning("jwks_refresh_failed", exc_info=True)
            key = self._keys.get(kid)
        return key

    async def verify(self, token: str) -> Identity:
        known = self._verified.get(token)
        if known is not None:
            # PyJWT refuses a token once `exp` <= now: the same rule for a remembered one.
            if known.expires_at > self._clock():
                self._verified.move_to_end(token)
                return known
            del self._verified[token]
        identity = await self._verify(token)
        self._verified[token] = identity
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return identity

    async def _verify(self, token: str) -> Identity:
        self.verifications += 1
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized() from None
        key = await self._key_for(str(header.get("kid", "")))
        if key is None:
            raise Unauthorized()
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "sub", "aud", "iss"]},
            )
            return Identity.from_claims(claims)
        except (jwt.PyJWTError, KeyError, ValueError):
            raise Unauthorized() from None


IDENTITY = web.RequestKey("identity", Identity)  # the verified caller of a request
VERIFIER = web.AppKey("identity_verifier", IdentityVerifier)


OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# A service's OpenAPI document (shared.openapi): internal, and nothing secret (the gateway
# publishes it), fetched by the gateway without an identity.
DOCUMENT_PATH = "/internal/openapi.json"
PublicRule = Callable[[web.Request], bool]


def identity_middleware(is_public: PublicRule = lambda _: False) -> Any:
    """Every request needs a valid identity JWT except the ops paths and what `is_public` says.

    On a public path a presented JWT is still verified, so handlers may use it if present.
    """

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path in OPS_PATHS or request.path == DOCUMENT_PATH:
            return await handler(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            request[IDENTITY] = await request.app[VERIFIER].verify(token.strip())
        elif not is_public(request):
            raise Unauthorized()
        return await handler(request)

    return middleware


def identity_of(request: web.Request) -> Identity:
    try:
        return request[IDENTITY]
    except KeyError:
        raise Unauthorized() from None


def require_ability(request: web.Request, ability: str) -> Identity:
    identity = identity_of(request)
    identity.require(ability)
    return identity


def http_jwks_fetcher(session_getter: Callable[[], Any], url: str) -> JwksFetcher:
    """Fetch the JWKS over HTTP with the app's shared aiohttp session."""

    async def fetch() -> dict[str, Any]:
        async with session_getter().get(url) as response:
            response.raise_for_status()
            data: dict[str, Any] = await response.json()
            return data

    return fetch


def verifier_context(
    jwks_url: Callable[[web.Application], str],
) -> Callable[[web.Application], Any]:
    """A cleanup_ctx giving the app an IdentityVerifier that fetches auth-service's JWKS."""

    async def context(app: web.Application) -> Any:
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            app[VERIFIER] = IdentityVerifier(http_jwks_fetcher(lambda: session, jwks_url(app)))
            yield

    return context
