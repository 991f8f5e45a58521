"""Who the client is: the TCP peer, or, behind trusted proxies, the address they report.

Rate-limit buckets are keyed by it, so it must be an address the client cannot choose. A proxy
appends the address of whoever connected to it to X-Forwarded-For; everything left of that was
sent by the client and may be forged. So the client is found walking the chain from the right:
past the peer and every hop that is a trusted proxy, the first address that is not one.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_settings import NoDecode

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


def _split_cidrs(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# TRUSTED_PROXIES=10.0.0.0/8,2001:db8::/32 (a bare address is a /32 or /128).
TrustedProxies = Annotated[tuple[Network, ...], NoDecode, BeforeValidator(_split_cidrs)]


def _address(value: str) -> Address | None:
    try:
        address = ip_address(value.strip())
    except ValueError:
        return None
    # A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; they are IPv4 clients.
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class ClientAddresses:
    def __init__(self, trusted: Iterable[Network]) -> None:
        self._trusted = tuple(trusted)

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self._trusted)

    def client_of(self, peer: str | None, forwarded_for: Iterable[str]) -> str:
        """The client's address, from the TCP peer and the X-Forwarded-For header values."""
        if not self._trusted:  # the common case: the peer is the client, nothing to parse
            return peer or "unknown"
        address = _address(peer or "")
        if address is None:
            return peer or "unknown"
        if not self._is_trusted(address):
            return str(address)  # what an untrusted peer says about others is not believed
        hops = [hop for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            reported = _address(hop)
            if reported is None:
                break  # a trusted proxy passed on garbage: the last proxy is all we know
            address = reported
            if not self._is_trusted(address):
                break
        return str(address)
