"""The gateway's route table: path pattern -> upstream, authentication, rate-limit policies.

Data, in one place. The gateway knows routes, not business rules: abilities are checked by
the backends, which own their routes, from the identity JWT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yarl import URL

from shared.web import MAX_BODY_BYTES, MAX_IMPORT_BYTES

ANY = ("*",)


@dataclass(frozen=True)
class RouteSpec:
    path: str
    upstream: str  # "auth" | "billing" | "pdf" | "local"
    methods: tuple[str, ...] = ANY  # others get 405 from the gateway (ANY: the upstream's say)
    authenticated: bool = True
    # Policies applied on top of the caller's default one (see Limits.authenticated).
    extra_policies: tuple[str, ...] = ()
    # The per-client policy of callers without a valid token (see Limits.anonymous): each
    # has its own bucket, so exhausting logins does not lock anyone out of invoices or files.
    anonymous_policy: str = "unauthenticated"
    # The largest request body passed on (413 beyond): 1 MiB but for a CSV import's file.
    max_body: int = MAX_BODY_BYTES


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("/api/v1/tokens", "auth", ("POST",), authenticated=False, anonymous_policy="login"),
    RouteSpec("/api/v1/login", "auth", ("POST",), authenticated=False, anonymous_policy="login"),
    RouteSpec("/api/v1/tokens", "auth", ("GET",)),
    RouteSpec("/api/v1/tokens/{token_id}", "auth", ("DELETE",)),
    RouteSpec("/api/v1/logout", "auth", ("POST",)),
    RouteSpec("/api/v1/me", "auth", ("GET",)),
    RouteSpec("/api/v1/profile", "auth", ("GET", "PUT", "PATCH")),
    RouteSpec("/api/v1/openapi.json", "local", ("GET",), authenticated=False),
    RouteSpec(
        "/api/v1/invoices/{invoice_id}/regenerate-pdf",
        "billing",
        ("POST",),
        extra_policies=("regenerate",),
    ),
    # A CSV import's file may be larger than any other body (billing checks it again).
    *(
        RouteSpec(f"/api/v1/imports/{kind}", "billing", ("POST",), max_body=MAX_IMPORT_BYTES)
        for kind in ("customers", "products")
    ),
    # Everything else under the API belongs to billing-service.
    RouteSpec("/api/v1/{tail:.*}", "billing"),
    RouteSpec(
        "/i/{public_id}", "billing", ("GET",), authenticated=False, anonymous_policy="public"
    ),
    RouteSpec(
        "/files/{document_id}",
        "pdf",
        ("GET", "HEAD"),
        authenticated=False,
        anonymous_policy="files",
    ),
    RouteSpec("/docs", "local", ("GET",), authenticated=False),
    RouteSpec("/docs/{asset}", "local", ("GET",), authenticated=False),
)

LOCAL_PATHS = frozenset(spec.path for spec in ROUTES if spec.upstream == "local")

API_PREFIX = "/api/v1/"
ALIAS_PREFIX = "/api/"


def alias_of(path: str) -> str | None:
    """InvoiceMee's base `/api/<x>` for a `/api/v1/<x>` route."""
    return ALIAS_PREFIX + path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else None


# Path characters that encoding leaves as they are: a raw path of these only, already in
# the form the backend is sent (checked: yarl's path quoting keeps each of them).
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")


def upstream_path(path: str, raw_query: str) -> str:
    """What the backend is asked for: the path as the gateway routed it (decoded, then encoded
    once, so a backend cannot read it differently), with `/api/...` aliases made `/api/v1/...`."""
    if path.startswith(ALIAS_PREFIX) and not path.startswith(API_PREFIX):
        path = API_PREFIX + path[len(ALIAS_PREFIX) :]
    encoded = URL.build(path=path).raw_path
    return f"{encoded}?{raw_query}" if raw_query else encoded


def upstream_target(raw_target: str, path: str, raw_query: str) -> str:
    """upstream_path for a request: a raw target with nothing to decode or encode (the usual
    one) is used as it came, without decoding and encoding it again."""
    raw_path, _, query = raw_target.partition("?")
    if query == raw_query and _PLAIN_PATH.fullmatch(raw_path):
        if raw_path.startswith(ALIAS_PREFIX) and not raw_path.startswith(API_PREFIX):
            raw_path = API_PREFIX + raw_path[len(ALIAS_PREFIX) :]
        return f"{raw_path}?{query}" if query else raw_path
    return upstream_path(path, raw_query)
