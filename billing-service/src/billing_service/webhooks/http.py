"""Outbound HTTP for webhooks: the one place a tenant's URL is fetched, so the one place that
keeps those requests off the platform's own network.

A URL is checked when it is written (`check_url`: https, no credentials, no internal IP
literal) and again before every attempt, but a name can resolve to anything at any time, so
the real guard sits at connect time: the deliveries' session resolves names through
`GuardedResolver`, which drops every address that is not globally routable (loopback,
private, link-local with the cloud metadata address, shared, reserved) unless a setting
allow-lists its network. The connector connects to exactly the addresses the resolver
returned, so a name that answers with a public address at write time and a private one later
(DNS rebinding) is refused all the same. aiohttp never asks the resolver about an IP literal:
those are checked here before the request.

Redirects are not followed (a public URL may redirect inward), no proxy from the environment
is used, and no more than a few KiB of a response are ever read.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from billing_service.platform.settings import IPNetwork, Settings, parse_networks

USER_AGENT = "invoicing-platform-webhooks/1.0"
MAX_URL_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 prefixes that carry an IPv4 address a gateway may forward to (NAT64's well-known one).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# The deprecated IPv4-compatible form (::127.0.0.1), which Python calls global.
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# The IPv4-translated form of SIIT (RFC 2765: ::ffff:0:127.0.0.1), which Python calls global.
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")


class UnsafeUrl(ValueError):
    """A webhook URL the platform will not call; the message says why (for the API)."""


class RefusedAddress(OSError):
    """The host resolved to no address the platform may connect to."""


def _unwrapped(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped, translated, 6to4, NAT64), else
    itself."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return embedded
        if address in _NAT64 or address in _IPV4_TRANSLATED:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address in _IPV4_COMPATIBLE and int(address) > 1:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


class AddressPolicy:
    """Which addresses a webhook may connect to: the globally routable ones, and those of the
    allow-listed networks (a test's loopback receiver, an on-premises integration)."""

    def __init__(self, allowed: Iterable[IPNetwork] = ()) -> None:
        self.allowed = tuple(allowed)

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressPolicy:
        return cls(parse_networks(settings.webhook_allowed_networks))

    def permits(self, host: str) -> bool:
        """`host` is an IP address as a resolver or URL gives it (an IPv6 scope allowed)."""
        try:
            address = _unwrapped(ipaddress.ip_address(host.partition("%")[0]))
        except ValueError:
            return False
        if any(address in network for network in self.allowed):
            return True
        return address.is_global and not address.is_multicast


def _is_ip_literal(host: str) -> bool:
    """aiohttp's own test for a host it connects to without resolving it."""
    return ":" in host or host.replace(".", "").isdigit()


def _parse(url: str) -> URL:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        raise UnsafeUrl("is not a valid URL") from None
    if not parsed.is_absolute() or not parsed.host:
        raise UnsafeUrl("must be an absolute URL with a host")
    return parsed


def check_url(url: str, settings: Settings) -> str:
    """The URL if the platform may call it, else UnsafeUrl saying why. Checked when an
    endpoint is written and before every attempt; the connect-time guard does the rest."""
    parsed = _parse(url)
    allowed_schemes = ("https", "http") if allows_plain_http(settings) else ("https",)
    if parsed.scheme not in allowed_schemes:
        raise UnsafeUrl("must be an https URL")
    if parsed.user is not None or parsed.password is not None:
        raise UnsafeUrl("must not carry a user name or password")
    if parsed.fragment:
        raise UnsafeUrl("must not carry a fragment")
    if parsed.explicit_port == 0:
        raise UnsafeUrl("must not name port 0")
    host = parsed.host or ""
    if _is_ip_literal(host) and not AddressPolicy.from_settings(settings).permits(host):
        raise UnsafeUrl("must not point at a private, loopback or link-local address")
    return url


def allows_plain_http(settings: Settings) -> bool:
    if settings.webhook_allow_http is not None:
        return settings.webhook_allow_http
    return settings.is_development


class GuardedResolver(AbstractResolver):
    """The default resolver, keeping only the addresses the policy permits."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        permitted = [result for result in results if self.policy.permits(result["host"])]
        if not permitted:
            raise RefusedAddress(f"{host} has no address the platform may call")
        return permitted

    async def close(self) -> None:
        await self.inner.close()


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    excerpt: str  # the start of the body, at most max_response_bytes of it


class WebhookHttp:
    """POSTs a webhook body over the guarded session."""

    def __init__(self, session: aiohttp.ClientSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse:
        """The receiver's answer; UnsafeUrl or RefusedAddress when it may not be called, an
        aiohttp or timeout error when it could not be reached."""
        check_url(url, self.settings)  # IP literals too: aiohttp never resolves those
        try:
            async with self.session.post(
                url,
                data=body,
                headers=headers | {"User-Agent": USER_AGENT, "Content-Type": "application/json"},
                allow_redirects=False,
            ) as response:
                excerpt = await self._excerpt(response)
                return WebhookResponse(response.status, excerpt)
        except aiohttp.ClientConnectorDNSError:
            # A name that does not resolve reads exactly like one the policy refused: the
            # delivery log must not tell a tenant which internal names exist.
            host = URL(url).host or ""
            raise RefusedAddress(f"{host} has no address the platform may call") from None

    async def _excerpt(self, response: aiohttp.ClientResponse) -> str:
        """The start of the body; a longer one is cut off and its connection closed unread."""
        limit = self.settings.webhook_max_response_bytes
        data = b""
        while len(data) < limit:
            chunk = await response.content.read(limit - len(data))
            if not chunk:
                break
            data += chunk
        if not response.content.at_eof():
            response.close()
        # Kept in the delivery log: PostgreSQL text holds no NUL, and a receiver must not be
        # able to make the outcome unrecordable (the delivery would then be retried forever).
        return data.decode("utf-8", "replace").replace("\x00", "\ufffd")


def webhook_http_context(
    key: web.AppKey[WebhookHttp], settings: Callable[[web.Application], Settings]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The deliveries' own session (a cleanup_ctx): the guarded resolver, no proxy from the
    environment, bodies left compressed (never inflated past the cap), a total timeout."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        config = settings(app)
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(AddressPolicy.from_settings(config)),
            limit=config.webhook_concurrency,
            limit_per_host=config.webhook_connections_per_host,
        )
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=config.webhook_timeout_seconds),
            trust_env=False,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        ) as session:
            app[key] = WebhookHttp(session, config)
            yield

    return context
