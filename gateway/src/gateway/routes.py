"""The gateway's route table: path pattern -> upstream, authentication, rate-limit policies.

Data, in one place. The gateway knows routes, not business rules: abilities are checked by
the backends, which own their routes, from the identity JWT.
"""

from __future__ import annotations

from dataclasses import dataclass

ANY = ("*",)


@dataclass(frozen=True)
class RouteSpec:
    path: str
    upstream: str  # "auth" | "billing" | "pdf" | "local"
    methods: tuple[str, ...] = ANY
    authenticated: bool = True
    # Policies applied on top of the caller's default one (see Limits.policies_for).
    extra_policies: tuple[str, ...] = ()


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("/api/v1/tokens", "auth", ("POST",), authenticated=False),
    RouteSpec("/api/v1/login", "auth", ("POST",), authenticated=False),
    RouteSpec("/api/v1/tokens", "auth", ("GET",)),
    RouteSpec("/api/v1/tokens/{token_id}", "auth", ("DELETE",)),
    RouteSpec("/api/v1/logout", "auth", ("POST",)),
    RouteSpec("/api/v1/me", "auth", ("GET",)),
    RouteSpec("/api/v1/profile", "auth", ("GET", "PUT", "PATCH")),
    RouteSpec("/api/v1/openapi.json", "local", ("GET",), authenticated=False),
    RouteSpec("/api/v1/invoices/{invoice_id}/send", "billing", ("POST",), extra_policies=("send",)),
    RouteSpec(
        "/api/v1/invoices/{invoice_id}/send-email", "billing", ("POST",), extra_policies=("send",)
    ),
    RouteSpec(
        "/api/v1/invoices/{invoice_id}/regenerate-pdf",
        "billing",
        ("POST",),
        extra_policies=("regenerate",),
    ),
    # Everything else under the API belongs to billing-service.
    RouteSpec("/api/v1/{tail:.*}", "billing"),
    RouteSpec("/i/{public_id}", "billing", ("GET",), authenticated=False),
    RouteSpec("/files/{tail:.*}", "pdf", ("GET", "HEAD"), authenticated=False),
    RouteSpec("/docs", "local", ("GET",), authenticated=False),
)

API_PREFIX = "/api/v1/"
ALIAS_PREFIX = "/api/"


def alias_of(path: str) -> str | None:
    """InvoiceMee's base `/api/<x>` for a `/api/v1/<x>` route."""
    return ALIAS_PREFIX + path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else None


def upstream_path(raw_path: str) -> str:
    """The canonical `/api/v1/...` path the backends serve, for an aliased `/api/...` one."""
    if raw_path.startswith(ALIAS_PREFIX) and not raw_path.startswith(API_PREFIX):
        return API_PREFIX + raw_path[len(ALIAS_PREFIX) :]
    return raw_path
