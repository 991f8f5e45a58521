"""auth-service's operation table is its contract: the document it serves is valid OpenAPI,
every operation's real answers match the documented schemas, and who may call each operation
is what the table declares (derived from the table, so a new route is covered too)."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from openapi_spec_validator import validate

from auth_service.routes import OPERATIONS
from shared.abilities import KNOWN_ABILITIES, grants
from shared.contract import Public
from shared.openapi import DOCUMENT_PATH, openapi_path
from shared.service_access import InternalSecret

SECRET = {"X-Internal-Secret": "test-internal-secret-0123456789"}
TABLE = {(operation.method, openapi_path(operation.path)) for operation in OPERATIONS}
# What shared.web has always written for a UTC date-time: microseconds when there are any, Z.
UTC_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def document(auth, http) -> dict[str, Any]:
    async with http.get(f"{auth.url}{DOCUMENT_PATH}") as response:
        assert response.status == 200
        return await response.json()


class Caller:
    """Calls auth-service and checks each answer against the served document."""

    def __init__(self, http: aiohttp.ClientSession, url: str, schemas: Any) -> None:
        self.http, self.url, self.schemas = http, url, schemas

    async def __call__(
        self, method: str, route: str, status: int, *, path: str | None = None, **kwargs: Any
    ) -> Any:
        async with self.http.request(method, self.url + (path or route), **kwargs) as response:
            text = await response.text()
            body = await response.json() if text else None
        assert response.status == status, (method, path or route, body)
        self.schemas.check(method, route, status, body)
        return body


async def test_the_served_document_is_valid_openapi_3_1_with_every_operation(document):
    validate(document)
    served = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert served == TABLE
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for path, item in document["paths"].items():
        for operation in item.values():
            assert (operation["tags"] == ["Internal"]) == path.startswith("/internal/"), path
    profile = document["components"]["schemas"]["ProfileUpdate"]["properties"]
    assert {"first_name", "firstname", "phone", "phonenumber", "companyname"} <= set(profile)


async def test_every_operation_answers_as_documented(auth, http, document, answer_schemas):
    schemas = answer_schemas(document)
    call = Caller(http, auth.url, schemas)
    member = await auth.user()
    credentials = {"email": member.email, "password": member.password, "device_name": "erp"}
    bearer = {"Authorization": f"Bearer {await auth.identity_jwt(member.token)}"}

    issued = await call("POST", "/api/v1/tokens", 201, json=credentials)
    assert issued["expires_at"] is None
    narrow = credentials | {"abilities": ["invoices:read"], "expires_in_days": 7}
    expiring = await call("POST", "/api/v1/tokens", 201, json=narrow)
    assert UTC_DATETIME.fullmatch(expiring["expires_at"])
    await call("POST", "/api/v1/tokens", 422, json=narrow | {"abilities": ["nonsense"]})
    logged_in = await call("POST", "/api/v1/login", 200, json=credentials)
    assert logged_in["user"]["id"] == member.id

    me = await call("GET", "/api/v1/me", 200, headers=bearer)
    assert UTC_DATETIME.fullmatch(me["created_at"])
    await call("GET", "/api/v1/me", 401)
    tokens = await call("GET", "/api/v1/tokens", 200, headers=bearer)
    assert len(tokens["data"]) == 4 and all(
        UTC_DATETIME.fullmatch(token["created_at"]) for token in tokens["data"]
    )
    other = issued["token"].partition("|")[0]
    route = "/api/v1/tokens/{token_id}"
    await call("DELETE", route, 204, path=f"/api/v1/tokens/{other}", headers=bearer)
    await call("DELETE", route, 404, path=f"/api/v1/tokens/{other}", headers=bearer)

    member_profile = await call("GET", "/api/v1/profile", 200, headers=bearer)
    assert member_profile["data"]["address1"] is None
    portal = await auth.bearer(["profile:read"], kind="client")
    portal_profile = await call("GET", "/api/v1/profile", 200, headers=portal)
    assert portal_profile["data"]["address1"] == ""
    await call("GET", "/api/v1/profile", 403, headers=await auth.bearer(["invoices:read"]))
    changed = await call("PUT", "/api/v1/profile", 200, json={"firstname": "Ann"}, headers=bearer)
    assert changed["data"]["first_name"] == changed["data"]["firstname"] == "Ann"
    await call("PATCH", "/api/v1/profile", 200, json={"city": "Lyon"}, headers=bearer)
    await call("PATCH", "/api/v1/profile", 422, json={"email": "nope"}, headers=bearer)
    await call("POST", "/internal/introspect", 200, json={"token": member.token}, headers=SECRET)
    await call("POST", "/internal/introspect", 401, json={"token": member.token})
    await call("POST", "/api/v1/logout", 200, json={}, headers=bearer)

    jwks = await call("GET", "/internal/jwks", 200)
    assert set(jwks) == {"keys"}
    email = f"invited-{member.id}@example.com"
    invited = await call(
        "POST", "/internal/users", 201, json={"email": email, "name": "Ivy"}, headers=SECRET
    )
    assert len(invited["data"]["password"]) >= 12
    chosen = {"email": f"chosen-{member.id}@example.com", "name": "Cy", "password": "p" * 12}
    created = await call("POST", "/internal/users", 201, json=chosen, headers=SECRET)
    assert "password" not in created["data"]
    found = await call("GET", "/internal/users", 200, params={"email": email}, headers=SECRET)
    assert found["data"][0]["kind"] == "member"
    ids = f"{member.id},{created['data']['id']}"
    both = await call("GET", "/internal/users", 200, params={"ids": ids}, headers=SECRET)
    assert [user["id"] for user in both["data"]] == [member.id, created["data"]["id"]]
    await call("GET", "/internal/users", 400, params={"ids": "1,x"}, headers=SECRET)
    route = "/internal/users/{user_id}"
    path = f"/internal/users/{created['data']['id']}"
    await call("DELETE", route, 204, path=path, headers=SECRET)
    await call("DELETE", route, 404, path=path, headers=SECRET)

    assert schemas.checked == TABLE


def _url(path: str) -> str:
    """A path of the table with an id no record has (never the caller's own token)."""
    return re.sub(r"\{\w+\}", "999999999", path)


def _lacking(ability: str) -> list[str]:
    """Every ability this platform knows that does not grant `ability`."""
    return sorted(known for known in KNOWN_ABILITIES if not grants([known], ability))


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.operation_id)
async def test_the_declared_access_is_the_enforced_one(auth, http, operation):
    async def status(headers: dict[str, str]) -> int:
        async with http.request(
            operation.method, auth.url + _url(operation.path), json={}, headers=headers
        ) as response:
            return response.status

    access = operation.access
    if isinstance(access, InternalSecret):
        assert await status({}) == 401
        assert await status({"X-Internal-Secret": "guess"}) == 401
        assert await status(SECRET) not in (401, 403)
    elif isinstance(access, Public):
        assert await status({}) not in (401, 403)
    else:
        assert await status({}) == 401
        for ability in access.abilities():
            assert await status(await auth.bearer(_lacking(ability))) == 403, ability
        allowed = list(access.abilities()) or ["invoices:read"]
        assert await status(await auth.bearer(allowed)) not in (401, 403)


async def test_a_method_a_path_does_not_have_is_405_with_allow_for_anyone(auth, http):
    methods_of: dict[str, set[str]] = {}
    for method, path in TABLE:
        methods_of.setdefault(path, set()).add(method)
    for path, methods in methods_of.items():
        wrong = next(m for m in ("DELETE", "PATCH", "PUT", "POST", "GET") if m not in methods)
        async with http.request(wrong, auth.url + _url(path)) as response:
            assert response.status == 405, (wrong, path)
            implicit = {"HEAD"} if "GET" in methods else set()  # HEAD wherever GET is
            assert set(response.headers["Allow"].split(",")) == methods | implicit, path
            assert (await response.json())["error_code"] == "METHOD_NOT_ALLOWED"
    async with http.get(f"{auth.url}/api/v1/nothing-here") as response:
        assert response.status == 401  # an unknown path still needs a token
