from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from gateway.clients import TrustedProxies
from gateway.cors import Origins
from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    port: int = 8080
    # /metrics is served on this port only, never on the public one (not published by compose).
    metrics_port: int = 9090
    redis_url: str = "redis://localhost:6379/0"
    auth_url: str = "http://localhost:8001"
    billing_url: str = "http://localhost:8002"
    pdf_url: str = "http://localhost:8003"
    # Comma-separated CIDRs of the proxies in front of the gateway (a load balancer); their
    # X-Forwarded-For names the client. Empty: the TCP peer is the client, whatever it sends.
    trusted_proxies: TrustedProxies = ()
    # Origins whose pages may call the API (CORS): comma-separated, e.g.
    # `https://app.example.com`; `*` for any. Empty: none (browsers refuse cross-origin calls).
    cors_origins: Origins = ()
    cors_max_age: int = 600  # how long a browser keeps a preflight's answer, in seconds
    internal_secret: SecretStr = SecretStr("dev-only-internal-secret")
    token_cache_prefix: str = "tok:"

    # Rate limits (docs/api.md's table); windows in seconds.
    rate_limit_default: int = 60
    rate_limit_default_window: int = 60
    rate_limit_unauthenticated: int = 60
    rate_limit_unauthenticated_window: int = 60
    # Per client address, each its own bucket: exhausting one never locks out the others.
    rate_limit_login: int = 60  # POST /tokens, POST /login
    rate_limit_login_window: int = 60
    rate_limit_public: int = 60  # the public invoice pages, /i/...
    rate_limit_public_window: int = 60
    rate_limit_files: int = 60  # signed PDF downloads, /files/...
    rate_limit_files_window: int = 60
    rate_limit_regenerate: int = 10
    rate_limit_regenerate_window: int = 60
    # Redis unreachable: keep serving with a per-process limiter, or refuse with 503.
    rate_limit_fail_closed: bool = False
    redis_retry_after_failure_seconds: float = 1.0

    # Identity cache: until the identity JWT's expiry minus this margin.
    identity_cache_margin_seconds: int = 15
    negative_cache_seconds: int = 30

    upstream_connect_timeout: float = 3.0
    upstream_read_timeout: float = 60.0
    upstream_resolve_interval: float = 5.0
    upstream_connections: int = 512

    # The services' OpenAPI documents (merged into /api/v1/openapi.json): refetched this often;
    # a missing one (its service was down) asked again on demand at most every retry seconds,
    # a request waiting for that at most wait seconds.
    openapi_refresh_seconds: float = 60.0
    openapi_retry_seconds: float = 5.0
    openapi_wait_seconds: float = 1.0
    openapi_fetch_timeout: float = 5.0

    access_log: bool = True

    @property
    def upstream_urls(self) -> dict[str, str]:
        """Each upstream service by the name the route table gives it."""
        return {"auth": self.auth_url, "billing": self.billing_url, "pdf": self.pdf_url}

    secret_fields: ClassVar[tuple[str, ...]] = ("internal_secret",)
    url_password_fields: ClassVar[dict[str, bool]] = {"redis_url": True}
