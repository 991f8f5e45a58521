"""What the gateway believes about a request before routing it: its path and its client; and
what it gives away in answers and logs."""

from __future__ import annotations

import socket
import uuid

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from pydantic import ValidationError
from yarl import URL

from gateway.settings import Settings


def failing_login() -> dict[str, str]:
    """A login auth-service refuses, for an address of its own (auth counts failures per
    e-mail and IP, and other tests fail logins from this machine too)."""
    return {
        "email": f"nobody-{uuid.uuid4().hex[:8]}@example.com",
        "password": "x",
        "device_name": "d",
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get_exactly(
    client: TestClient, path: str, headers: dict[str, str] | None = None
) -> ClientResponse:
    """GET with the path sent byte for byte (aiohttp's client would resolve dot segments)."""
    url = URL(f"http://{client.host}:{client.port}{path}", encoded=True)
    return await client.session.get(url, headers=headers)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/x/%2e%2e/invoices/1/send",
        "/api/v1/x/%2E%2E/invoices/1/regenerate-pdf",
        "/api/x/%2e%2E/invoices/1/regenerate-pdf",
        "/api/v1/x/../invoices/1/regenerate-pdf",
        "/api/v1/./companies",
        "/api/v1/%2e/companies",
        "/files/%2e%2e/metrics",
        "/files/../metrics",
        "/files/x%2f..%2fmetrics",
        "/files/x%2F%2e%2e%2Fmetrics",
        "/files/x%5c..%5cmetrics",
        "/i/%2e%2e",
        "/%2e%2e/internal/jwks",
    ],
)
async def test_dot_segments_are_refused_before_any_limit_or_proxying(
    gateway, auth, redis_client, path
):
    client = await gateway()
    user = await auth.user()
    response = await get_exactly(client, path, bearer(user.token))
    assert response.status == 400, path
    body = await response.json()
    assert body["error_code"] == "BAD_REQUEST"  # the gateway's answer, not the echo upstream's
    assert "X-RateLimit-Remaining" not in response.headers  # no policy was applied
    assert [key async for key in redis_client.scan_iter("rl:*:" + str(user.id))] == []
    assert [key async for key in redis_client.scan_iter("rl:ip:*")] == []


async def test_the_canonical_path_is_forwarded(gateway, auth):
    client = await gateway()
    user = await auth.user()
    response = await get_exactly(
        client, "/api/invoices/%34%32/pay%6dents?expires=1&signature=a%2Fb", bearer(user.token)
    )
    seen = await response.json()
    assert seen["raw_path"] == "/api/v1/invoices/42/payments?expires=1&signature=a%2Fb"


async def test_login_public_pages_and_files_have_their_own_buckets(gateway, auth):
    client = await gateway(
        rate_limit_login=2, rate_limit_public=2, rate_limit_files=2, rate_limit_unauthenticated=2
    )
    body = failing_login()
    logins = [(await client.post("/api/v1/tokens", json=body)).status for _ in range(3)]
    assert logins == [422, 422, 429]
    assert (await client.post("/api/v1/login", json=body)).status == 429  # the same bucket
    # Logins exhausted: the public page, files and the API still answer this client.
    page = await client.get("/i/abcdefghijklmnopqrstuvwxyz")
    assert page.status == 200 and page.headers["RateLimit-Policy"] == '"public";q=2;w=60'
    pdf = await client.get("/files/7f1c4e0e-3b1f-4c55-9d7e-3c2f1f0d6a11?expires=1&signature=x")
    assert pdf.status == 200 and pdf.headers["RateLimit-Policy"] == '"files";q=2;w=60'
    anonymous_api = await client.get("/api/v1/companies")
    assert anonymous_api.status == 401
    assert anonymous_api.headers["RateLimit-Policy"] == '"unauthenticated";q=2;w=60'
    pages = [(await client.get("/i/abcdefghijklmnopqrstuvwxyz")).status for _ in range(2)]
    assert pages == [200, 429]
    assert (await client.get("/files/7f1c4e0e-3b1f-4c55-9d7e-3c2f1f0d6a11")).status == 200


async def test_forwarded_for_counts_only_from_trusted_proxies(gateway, redis_client):
    body = failing_login()

    async def login_statuses(client: TestClient, clients: list[str]) -> list[int]:
        return [
            (await client.post("/api/v1/tokens", json=body, headers={"X-Forwarded-For": ip})).status
            for ip in clients
        ]

    # The test client connects from 127.0.0.1. Untrusted, its X-Forwarded-For changes nothing:
    # each forged address still lands in the peer's one bucket.
    untrusted = await gateway(rate_limit_login=2)
    assert await login_statuses(untrusted, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [
        422,
        422,
        429,
    ]
    async for key in redis_client.scan_iter("rl:ip:*"):
        await redis_client.delete(key)
    # Trusted, the right-most address that is not a trusted proxy is the client.
    trusted = await gateway(rate_limit_login=2, trusted_proxies="127.0.0.0/8, 10.0.0.0/8")
    chain = "192.0.2.66, 203.0.113.{n}, 10.1.2.3"  # forged, client, inner proxy
    statuses = await login_statuses(trusted, [chain.format(n=n) for n in (1, 2, 3, 1, 1)])
    assert statuses == [422, 422, 422, 422, 429]
    keys = {key.decode() async for key in redis_client.scan_iter("rl:ip:*")}
    assert keys == {f"rl:ip:login:203.0.113.{n}" for n in (1, 2, 3)}


async def test_backends_see_the_client_address_as_x_forwarded_for(gateway, auth):
    user = await auth.user()
    for trusted, expected in (("", "127.0.0.1"), ("127.0.0.1", "198.51.100.7")):
        client = await gateway(trusted_proxies=trusted)
        response = await client.get(
            "/api/v1/x", headers=bearer(user.token) | {"X-Forwarded-For": "198.51.100.7"}
        )
        headers = {
            name.lower(): value for name, value in (await response.json())["headers"].items()
        }
        assert headers["x-forwarded-for"] == expected


def test_client_address_walks_the_chain_from_the_right():
    from gateway.clients import ClientAddresses

    clients = ClientAddresses(Settings(trusted_proxies="10.0.0.0/8,2001:db8::/32").trusted_proxies)
    assert clients.client_of("10.0.0.5", ["198.51.100.1, 203.0.113.9"]) == "203.0.113.9"
    # Several header lines are one list; every trusted hop is skipped.
    assert clients.client_of("10.0.0.5", ["203.0.113.9", "10.9.9.9, 10.0.0.7"]) == "203.0.113.9"
    assert clients.client_of("2001:db8::1", ["2001:0DB8:0:0:0:0:0:1, 2001:db9::1"]) == "2001:db9::1"
    # An untrusted peer is the client, whatever it says.
    assert clients.client_of("198.51.100.4", ["10.0.0.1"]) == "198.51.100.4"
    assert clients.client_of("::ffff:198.51.100.4", []) == "198.51.100.4"
    # Garbage from a trusted proxy: the proxy itself is all that is known.
    assert clients.client_of("10.0.0.5", ["198.51.100.1, not-an-ip"]) == "10.0.0.5"
    assert clients.client_of("10.0.0.5", []) == "10.0.0.5"
    # Only trusted hops: the farthest one.
    assert clients.client_of("10.0.0.5", ["10.0.0.9, 10.0.0.8"]) == "10.0.0.9"
    assert ClientAddresses(()).client_of("10.0.0.5", ["203.0.113.9"]) == "10.0.0.5"


def test_trusted_proxies_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "172.16.0.0/12, 2001:db8::/32,192.0.2.1")
    assert [str(n) for n in Settings().trusted_proxies] == [
        "172.16.0.0/12",
        "2001:db8::/32",
        "192.0.2.1/32",
    ]
    monkeypatch.setenv("TRUSTED_PROXIES", "")
    assert Settings().trusted_proxies == ()
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/33")
    with pytest.raises(ValidationError):
        Settings()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_metrics_are_served_on_the_internal_port_only(gateway, auth):
    port = _free_port()
    client = await gateway(metrics_port=port, host="127.0.0.1")
    user = await auth.user()
    public = await client.get("/metrics")
    assert public.status == 404
    assert "gateway_redis" not in await public.text()
    assert (await client.get("/metrics", headers=bearer(user.token))).status == 404
    async with client.session.get(f"http://127.0.0.1:{port}/metrics") as internal:
        assert internal.status == 200
        assert "gateway_redis_round_trips_total" in await internal.text()
        assert "Server" not in internal.headers


async def test_no_response_names_the_server_software(gateway, auth):
    client = await gateway()
    user = await auth.user()
    answers = [
        await client.get("/api/v1/x", headers=bearer(user.token)),  # proxied (aiohttp upstream)
        await client.get("/api/v1/x"),  # the gateway's own 401
        await client.get("/nowhere"),  # its 404
        await get_exactly(client, "/files/%2e%2e/metrics"),  # its 400
        await client.get("/healthz"),
        await client.get("/docs"),
    ]
    for answer in answers:
        assert "Server" not in answer.headers, answer.url
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


async def test_link_secrets_never_reach_the_access_log(gateway, capsys):
    client = await gateway(log_level="INFO")
    public_id = "QWxhZGRpbjpvcGVuIHNlc2FtZQxyz"
    signature = "5d41402abc4b2a76b9719d911017c592"
    await client.get(f"/i/{public_id}")
    await client.get(f"/i/{public_id}/")  # no route: still no path in the log
    await client.get(f"/files/7f1c4e0e-3b1f-4c55-9d7e-3c2f1f0d6a11?expires=1&signature={signature}")
    output = capsys.readouterr().out
    assert '"route":"/i/{public_id}"' in output
    assert '"route":"/files/{document_id}"' in output
    assert public_id not in output and signature not in output and "expires=" not in output


def test_every_route_names_policies_the_limits_know():
    from gateway.limits import Limits
    from gateway.routes import ROUTES

    limits = Limits(Settings())
    for spec in ROUTES:
        assert limits.anonymous(spec.anonymous_policy, "192.0.2.1"), spec.path
        assert limits.authenticated(spec), spec.path
    assert {spec.anonymous_policy for spec in ROUTES} == {
        "unauthenticated",
        "login",
        "public",
        "files",
    }
