"""The gateway's proxying: identity JWTs for backends, streaming, internal routes, upstream
failures, body limits, the docs page, methods, retries and round robin, and clean logs."""

from __future__ import annotations

import re

import jwt

from .request_helpers import bearer

RATE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Policy",
)


async def test_backend_gets_identity_jwt_never_the_client_token(gateway, auth):
    client = await gateway()
    user = await auth.user(["companies:read"])
    response = await client.get(
        "/api/v1/companies?page=2",
        headers=bearer(user.token)
        | {
            "X-Request-ID": "req-123",
            "Connection": "X-Secret-Hop",
            "X-Secret-Hop": "must-not-pass",
            "Proxy-Authorization": "Basic abc",
            "X-Internal-Secret": "forged",
            "X-Forwarded-For": "198.51.100.7",
        },
    )
    assert response.status == 200
    seen = await response.json()
    assert seen["path_qs"] == "/api/v1/companies?page=2"
    headers = {name.lower(): value for name, value in seen["headers"].items()}
    identity = headers["authorization"].removeprefix("Bearer ")
    assert user.token.split("|")[1] not in str(seen)
    claims = jwt.decode(identity, options={"verify_signature": False})
    assert claims["sub"] == str(user.id) and claims["abilities"] == ["companies:read"]
    assert headers["x-request-id"] == "req-123"
    assert response.headers["X-Request-ID"] == "req-123"
    # The peer (127.0.0.1) is no trusted proxy: what it says about others is dropped.
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert "x-forwarded-host" not in headers
    assert headers["x-forwarded-proto"] == "http"
    for hop in ("x-secret-hop", "proxy-authorization", "x-internal-secret"):
        assert hop not in headers
    # Hop-by-hop headers of the upstream's answer stay on the upstream's side too.
    assert "Keep-Alive" not in response.headers
    assert response.headers["X-Upstream"] == "echo"
    for name in RATE_HEADERS:
        assert name in response.headers


async def test_api_alias_reaches_the_v1_route(gateway, auth):
    client = await gateway()
    user = await auth.user()
    response = await client.post(
        "/api/invoices/42/approve?x=1", headers=bearer(user.token), json={}
    )
    assert (await response.json())["path_qs"] == "/api/v1/invoices/42/approve?x=1"


async def test_request_body_is_streamed_through(gateway, auth):
    client = await gateway()
    user = await auth.user()
    payload = '{"name": "' + "é" * 5000 + '"}'
    response = await client.put(
        "/api/v1/companies/1",
        data=payload.encode(),
        headers=bearer(user.token) | {"Content-Type": "application/json"},
    )
    seen = await response.json()
    assert seen["method"] == "PUT" and seen["body"] == payload


async def test_large_response_streams_intact(gateway, auth):
    client = await gateway()
    user = await auth.user()
    response = await client.get("/api/v1/big", headers=bearer(user.token))
    body = await response.read()
    assert len(body) == 300 * 1024
    assert body[1024 * 7] == 7
    assert response.headers["X-RateLimit-Limit"] == "60"


async def test_internal_routes_are_never_proxied(gateway):
    client = await gateway()
    for path in ("/internal/jwks", "/internal/introspect", "/internal/../internal/jwks"):
        response = await client.get(path)
        assert response.status == 404, path
        assert (await response.json())["error_code"] == "NOT_FOUND"
        assert "X-RateLimit-Remaining" in response.headers


async def test_upstream_down_is_503_json(gateway, auth):
    client = await gateway(billing_url="http://127.0.0.1:1")
    user = await auth.user()
    response = await client.get("/api/v1/x", headers=bearer(user.token))
    assert response.status == 503
    assert (await response.json())["error_code"] == "SERVICE_UNAVAILABLE"
    assert "X-RateLimit-Remaining" in response.headers


async def test_upstream_timeout_is_504_json(gateway, auth):
    client = await gateway(upstream_read_timeout=0.3)
    user = await auth.user()
    response = await client.get("/api/v1/slow", headers=bearer(user.token))
    assert response.status == 504
    assert (await response.json())["error_code"] == "UPSTREAM_TIMEOUT"


async def test_auth_service_down_is_503_not_500(gateway, auth):
    client = await gateway(auth_url="http://127.0.0.1:1")
    user = await auth.user()
    response = await client.get("/api/v1/x", headers=bearer(user.token))
    assert response.status == 503


async def test_body_over_one_mebibyte_is_413(gateway, auth):
    client = await gateway()
    user = await auth.user()
    response = await client.post(
        "/api/v1/companies", data=b"x" * (1024 * 1024 + 1), headers=bearer(user.token)
    )
    assert response.status == 413
    assert (await response.json())["error_code"] == "PAYLOAD_TOO_LARGE"


async def test_docs_is_swagger_ui_served_from_here_under_a_nonce_policy(gateway):
    client = await gateway()
    page = await client.get("/docs")
    assert page.status == 200 and "X-RateLimit-Remaining" in page.headers
    policy = page.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'nonce-([\w-]+)';", policy).group(1)
    assert f"style-src 'nonce-{nonce}';" in policy and "default-src 'none'" in policy
    assert "unsafe" not in policy and "http" not in policy  # no inline code, no other origin
    assert policy.endswith("frame-ancestors 'none'") and "form-action 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = await page.text()
    for tag in re.findall(r"<(?:script|link rel=stylesheet) [^>]*>", html):
        assert f"nonce={nonce}" in tag, tag
    assert "<script>" not in html  # every script is a file of this origin
    assets = re.findall(r"(?:src|href)=(/docs/[\w.-]+)", html)
    assert {"/docs/swagger-ui-bundle.js", "/docs/docs.js", "/docs/swagger-ui.css"} <= set(assets)
    for asset in assets:
        response = await client.get(asset)
        assert response.status == 200 and len(await response.read()) > 100, asset
    assert "/api/v1/openapi.json" in await (await client.get("/docs/docs.js")).text()
    again = await client.get("/docs")
    assert again.headers["Content-Security-Policy"] != policy  # one nonce per page
    missing = await client.get("/docs/index.html")
    assert missing.status == 404 and "X-RateLimit-Remaining" in missing.headers


async def test_a_wrong_method_on_a_known_route_is_405_with_allow(gateway):
    client = await gateway()
    for method, path, allow in (
        ("GET", "/api/v1/login", "POST"),
        ("GET", "/api/login", "POST"),
        ("DELETE", "/api/v1/tokens", "GET, HEAD, POST"),
        ("POST", "/api/v1/me", "GET, HEAD"),
        ("POST", "/docs", "GET, HEAD"),
        ("PUT", "/files/abc", "GET, HEAD"),
    ):
        response = await client.request(method, path)
        assert response.status == 405, (method, path)
        assert response.headers["Allow"] == allow
        assert (await response.json())["error_code"] == "METHOD_NOT_ALLOWED"
        assert "X-RateLimit-Remaining" in response.headers  # counted like any request


async def test_the_document_is_revalidated_by_etag_and_compressed(gateway):
    client = await gateway()
    first = await client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert first.status == 200 and first.headers["Content-Encoding"] == "gzip"
    assert (await first.json())["openapi"] == "3.1.0"
    tag = first.headers["ETag"]
    again = await client.get("/api/v1/openapi.json", headers={"If-None-Match": tag})
    assert again.status == 304 and await again.read() == b""
    stale = await client.get("/api/v1/openapi.json", headers={"If-None-Match": '"other"'})
    assert stale.status == 200


async def test_head_is_answered_wherever_get_is(gateway):
    client = await gateway()
    for path in ("/api/v1/openapi.json", "/docs", "/docs/docs.js"):
        response = await client.head(path)
        assert response.status == 200, path
        assert await response.read() == b""
    assert (await client.head("/api/v1/me")).status == 401  # proxied after the token check


async def test_any_method_of_billing_routes_is_billing_s_to_answer(gateway, auth):
    client = await gateway()
    user = await auth.user()
    response = await client.request("PATCH", "/api/v1/companies/1", headers=bearer(user.token))
    assert (await response.json())["method"] == "PATCH"  # the echo upstream, standing in


async def test_a_request_never_sent_goes_on_to_another_address_whatever_its_method(gateway, auth):
    from gateway.keys import UPSTREAMS

    client = await gateway()
    user = await auth.user()
    billing = client.app[UPSTREAMS]["billing"]
    # 127.0.0.2 has nothing listening on the upstream's port: connections are refused there.
    billing.addresses = ["127.0.0.2", "127.0.0.1"]
    first = await client.get("/api/v1/x", headers=bearer(user.token))  # tries .2, then .1
    second = await client.get("/api/v1/x", headers=bearer(user.token))  # starts at .1
    assert (first.status, second.status) == (200, 200)
    # Refused at .2, so never sent there: a POST too goes on to .1, once.
    post = await client.post("/api/v1/x", json={"a": 1}, headers=bearer(user.token))
    assert post.status == 200
    assert (await post.json())["method"] == "POST"
    billing.addresses = ["127.0.0.2"]
    alone = await client.post("/api/v1/x", json={"a": 1}, headers=bearer(user.token))
    assert alone.status == 503
    assert (await alone.json())["error_code"] == "SERVICE_UNAVAILABLE"


def test_round_robin_over_every_address():
    from yarl import URL

    from gateway.upstreams import Upstream

    upstream = Upstream("billing", URL("http://billing-service:8000"), ["10.0.0.1", "10.0.0.2"])
    firsts = [upstream.next_addresses()[0] for _ in range(4)]
    assert firsts == ["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.2"]
    assert upstream.next_addresses() == ["10.0.0.1", "10.0.0.2"]


async def test_tokens_never_reach_the_logs(gateway, auth, capsys):
    client = await gateway(log_level="INFO")
    user = await auth.user()
    await client.get("/api/v1/x", headers=bearer(user.token))
    await client.post(
        "/api/v1/tokens", json={"email": user.email, "password": user.password, "device_name": "d"}
    )
    output = capsys.readouterr().out
    assert '"event":"request"' in output
    secret = user.token.split("|")[1]
    assert secret not in output and user.password not in output


async def test_a_csv_import_passes_unchanged_up_to_five_mebibytes(gateway, auth):
    """The import routes take a CSV file of up to 5 MiB (every other body 1 MiB): sent with
    a length or chunked, the backend gets the very bytes and their Content-Type."""
    import hashlib

    from shared.web import MAX_IMPORT_BYTES

    client = await gateway()
    user = await auth.user()
    headers = bearer(user.token) | {"Content-Type": "text/csv"}
    body = b"company_name,email\r\n" + b"Acme Ltd,ap@acme.example\r\n" * 120_000
    assert 1024 * 1024 < len(body) < MAX_IMPORT_BYTES

    async def chunked(data):
        for start in range(0, len(data), 100_000):
            yield data[start : start + 100_000]

    for path in ("/api/v1/imports/customers", "/api/imports/products"):
        for sent in (body, chunked(body)):
            response = await client.post(path, data=sent, headers=headers)
            assert response.status == 200, await response.text()
            seen = await response.json()
            assert seen["length"] == len(body)
            assert seen["sha256"] == hashlib.sha256(body).hexdigest()
            assert seen["content_type"] == "text/csv"
            assert seen["content_length"] == str(len(body))  # a chunked upload gets one
    too_big = b"x" * (MAX_IMPORT_BYTES + 1)
    for sent in (too_big, chunked(too_big)):
        response = await client.post("/api/v1/imports/customers", data=sent, headers=headers)
        assert response.status == 413
        answer = await response.json()
        assert answer["error_code"] == "PAYLOAD_TOO_LARGE" and "5 MiB" in answer["message"]
    # The import routes take POST only (billing has no other method there either).
    response = await client.get("/api/v1/imports/customers", headers=bearer(user.token))
    assert response.status == 405 and "POST" in response.headers["Allow"]
