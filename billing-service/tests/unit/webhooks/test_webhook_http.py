"""The webhook URL policy: what an endpoint URL may be, and which addresses may be reached."""

from __future__ import annotations

import pytest

from billing_service.platform.settings import Settings
from billing_service.webhooks.http import AddressPolicy, UnsafeUrl, check_url, parse_networks

PRODUCTION = {
    "environment": "production",
    "webhook_secret_key": "k" * 40,
    "internal_secret": "s" * 40,
    "database_url": "postgresql://billing:" + "p" * 20 + "@db/billing",
}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/in", "must be an https URL"),
        ("ftp://hooks.example.com/in", "must be an https URL"),
        ("https://user:pass@hooks.example.com/in", "must not carry a user name or password"),
        ("https://hooks.example.com/in#part", "must not carry a fragment"),
        ("hooks.example.com/in", "must be an absolute URL with a host"),
        ("https://127.0.0.1/in", "must not point at a private, loopback or link-local address"),
        ("https://10.0.0.7/in", "must not point at a private, loopback or link-local address"),
        ("https://169.254.169.254/", "must not point at a private, loopback or link-local address"),
        ("https://[::1]/in", "must not point at a private, loopback or link-local address"),
        ("https://[fd00:ec2::254]/", "must not point at a private, loopback or link-local address"),
        (
            "https://[::ffff:10.0.0.1]/",
            "must not point at a private, loopback or link-local address",
        ),
        ("https://127.1/in", "must not point at a private, loopback or link-local address"),
        ("https://[::127.0.0.1]/", "must not point at a private, loopback or link-local address"),
        (  # IPv4-translated (SIIT) 127.0.0.1
            "https://[::ffff:0:7f00:1]/",
            "must not point at a private, loopback or link-local address",
        ),
        ("https://hooks.example.com:0/in", "must not name port 0"),
        ("https://hooks.example.com/" + "a" * 2048, "must be at most 2048 characters"),
    ],
)
def test_unsafe_urls_are_refused_with_the_reason(url, reason):
    with pytest.raises(UnsafeUrl, match=reason):
        check_url(url, Settings(**PRODUCTION))


def test_https_names_and_public_addresses_are_accepted():
    settings = Settings(**PRODUCTION)
    for url in ("https://hooks.example.com/in?t=1", "https://203.0.114.9:8443/in"):
        assert check_url(url, settings) == url


def test_plain_http_only_in_development_or_when_allowed():
    assert check_url("http://hooks.example.com/", Settings(environment="development"))
    allowed = Settings(**PRODUCTION, webhook_allow_http=True)
    assert check_url("http://hooks.example.com/", allowed)
    with pytest.raises(UnsafeUrl, match="private, loopback"):  # the issue's own example
        check_url("http://[::ffff:0:7f00:1]/", Settings(environment="development"))
    with pytest.raises(UnsafeUrl):
        check_url(
            "http://hooks.example.com/", Settings(environment="test", webhook_allow_http=False)
        )


def test_an_allow_listed_network_may_be_reached():
    settings = Settings(**PRODUCTION, webhook_allowed_networks="10.20.0.0/16")
    assert check_url("https://10.20.3.4/in", settings)
    with pytest.raises(UnsafeUrl):
        check_url("https://10.21.3.4/in", settings)


@pytest.mark.parametrize(
    ("address", "permitted"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # shared (carrier-grade NAT)
        ("169.254.169.254", False),  # the cloud metadata address
        ("fd00:ec2::254", False),  # its IPv6 twin
        ("fe80::1%eth0", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:a00:1::", False),  # 6to4 of 10.0.0.1
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated), which Python calls global
        ("::ffff:0:7f00:1", False),  # IPv4-translated 127.0.0.1, which Python calls global
        ("::ffff:0:a00:1", False),  # IPv4-translated 10.0.0.1
        ("::ffff:0:808:808", True),  # IPv4-translated 8.8.8.8
        ("::", False),
        ("224.0.0.1", False),
        ("not an address", False),
    ],
)
def test_only_global_addresses_are_permitted(address, permitted):
    assert AddressPolicy().permits(address) is permitted


def test_allowed_networks_are_parsed_and_checked_at_start():
    assert [str(n) for n in parse_networks(" 127.0.0.0/8, ::1/128 ,")] == ["127.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match="webhook_allowed_networks"):
        Settings(webhook_allowed_networks="10.0.0.0/33")
    with pytest.raises(ValueError, match="WEBHOOK_LEASE_SECONDS must be longer"):
        Settings(webhook_timeout_seconds=30, webhook_lease_seconds=20)
    with pytest.raises(ValueError, match="WEBHOOK_LEASE_SECONDS must be longer"):
        Settings(webhook_batch=32, webhook_concurrency=16, webhook_lease_seconds=15)
    assert Settings(webhook_lease_seconds=15).webhook_batch == 32  # the stack tests' lease
