"""Companies through billing-service's HTTP API, with identity JWTs from the real auth-service."""

from __future__ import annotations

import asyncio

import pytest

from billing_service.platform.keys import POOL


async def create(billing, headers, **body):
    response = await billing.post("/api/v1/companies", json=body, headers=headers)
    return response.status, await response.json()


async def test_creator_becomes_owner_and_slug_is_generated(billing, auth):
    owner = await auth.bearer(["companies:*"])
    status, body = await create(billing, owner, name="Ünïcode Trading Ltd")
    assert status == 201
    company = body["data"]
    assert (company["role"], company["is_owner"]) == ("owner", True)
    assert company["slug"] == "unicode-trading-ltd"
    status, second = await create(billing, owner, name="Ünïcode Trading Ltd")
    assert second["data"]["slug"] == "unicode-trading-ltd-2"


async def test_list_is_paginated_and_scoped_to_the_caller(billing, auth):
    owner, stranger = await auth.bearer(["*"]), await auth.bearer(["*"])
    for index in range(3):
        await create(billing, owner, name=f"Mine {index}")
    await create(billing, stranger, name="Theirs")
    response = await billing.get("/api/v1/companies?per_page=2&page=2", headers=owner)
    body = await response.json()
    assert [c["name"] for c in body["data"]] == ["Mine 2"]
    assert body["meta"] | {"path": None} == {
        "current_page": 2,
        "from": 3,
        "last_page": 2,
        "path": None,
        "per_page": 2,
        "to": 3,
        "total": 3,
    }
    assert body["links"]["prev"].endswith("page=1")
    assert body["links"]["next"] is None


async def test_per_page_is_clamped_to_100(billing, auth):
    owner = await auth.bearer()
    response = await billing.get("/api/v1/companies?per_page=500", headers=owner)
    assert (await response.json())["meta"]["per_page"] == 100


async def test_another_users_company_is_404(billing, auth):
    owner, stranger = await auth.bearer(), await auth.bearer()
    _, body = await create(billing, owner, name="Private")
    company_id = body["data"]["id"]
    for method in ("GET", "PUT", "DELETE"):
        response = await billing.request(
            method, f"/api/v1/companies/{company_id}", json={"name": "x"}, headers=stranger
        )
        assert response.status == 404, method
        assert (await response.json())["error_code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("method", "path", "ability"),
    [
        ("GET", "/api/v1/companies", "companies:read"),
        ("POST", "/api/v1/companies", "companies:create"),
        ("GET", "/api/v1/companies/1", "companies:read"),
        ("PUT", "/api/v1/companies/1", "companies:update"),
        ("DELETE", "/api/v1/companies/1", "companies:delete"),
    ],
)
async def test_every_route_checks_its_ability(billing, auth, method, path, ability):
    lacking = await auth.bearer(["invoices:read"])
    response = await billing.request(method, path, json={"name": "x"}, headers=lacking)
    assert response.status == 403
    body = await response.json()
    assert body["error_code"] == "FORBIDDEN" and ability in body["message"]


async def test_wildcard_abilities_grant(billing, auth):
    for abilities in (["*"], ["companies:*"], ["*:read"]):
        response = await billing.get("/api/v1/companies", headers=await auth.bearer(abilities))
        assert response.status == 200, abilities


async def test_requests_without_a_valid_identity_jwt_are_401(billing, auth):
    user = await auth.user()
    for headers in (
        {},
        {"Authorization": f"Bearer {user.token}"},
        {"Authorization": "Bearer a.b.c"},
    ):
        response = await billing.get("/api/v1/companies", headers=headers)
        assert response.status == 401
        assert (await response.json())["error_code"] == "UNAUTHORIZED"


async def test_update_and_delete_need_the_right_role(billing, auth):
    owner_user = await auth.user()
    owner = {"Authorization": f"Bearer {await auth.identity_jwt(owner_user.token)}"}
    member_user = await auth.user()
    member = {"Authorization": f"Bearer {await auth.identity_jwt(member_user.token)}"}
    _, body = await create(billing, owner, name="Team")
    company_id = body["data"]["id"]
    await billing.app[POOL].execute(
        "INSERT INTO company_members (company_id, user_id, role) VALUES ($1, $2, 'member')",
        company_id,
        member_user.id,
    )
    seen = await billing.get(f"/api/v1/companies/{company_id}", headers=member)
    assert (await seen.json())["data"]["role"] == "member"
    response = await billing.put(
        f"/api/v1/companies/{company_id}", json={"name": "Hijack"}, headers=member
    )
    assert response.status == 403
    response = await billing.delete(f"/api/v1/companies/{company_id}", headers=member)
    assert response.status == 403
    response = await billing.patch(
        f"/api/v1/companies/{company_id}", json={"name": "Renamed"}, headers=owner
    )
    assert (await response.json())["data"]["name"] == "Renamed"
    assert (await billing.delete(f"/api/v1/companies/{company_id}", headers=owner)).status == 204
    assert (await billing.get(f"/api/v1/companies/{company_id}", headers=owner)).status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 42}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "ok", "slug": "Not A Slug"}, "slug"),
        ({"name": "ok", "slug": ["a"]}, "slug"),
    ],
)
async def test_bad_input_is_422_naming_the_field(billing, auth, body, field):
    status, answer = await create(billing, await auth.bearer(), **body)
    assert status == 422
    assert list(answer["errors"]) == [field]


async def test_non_object_and_malformed_bodies_are_400(billing, auth):
    headers = await auth.bearer()
    for raw in (b"[1, 2]", b"{", b"\xff\xfe"):
        response = await billing.post("/api/v1/companies", data=raw, headers=headers)
        assert response.status == 400, raw


async def test_odd_ids_are_404_not_500(billing, auth):
    headers = await auth.bearer()
    for company_id in ("abc", "-1", "99999999999999999999999", "1.5"):
        response = await billing.get(f"/api/v1/companies/{company_id}", headers=headers)
        assert response.status == 404, company_id


async def test_taken_slug_is_422(billing, auth):
    owner = await auth.bearer()
    _, first = await create(billing, owner, name="One")
    status, body = await create(billing, owner, name="Two", slug=first["data"]["slug"])
    assert status == 422 and "slug" in body["errors"]


async def test_concurrent_creates_get_distinct_slugs(billing, auth):
    owner = await auth.bearer()
    results = await asyncio.gather(*(create(billing, owner, name="Race Co") for _ in range(8)))
    assert {status for status, _ in results} == {201}
    slugs = {body["data"]["slug"] for _, body in results}
    assert len(slugs) == 8


async def test_client_portal_users_cannot_create_companies(billing, auth):
    client_user = await auth.bearer(["*"], kind="client")
    status, _ = await create(billing, client_user, name="Nope")
    assert status == 403


async def test_ops_endpoints_need_no_identity(billing):
    assert (await billing.get("/healthz")).status == 200
    assert (await (await billing.get("/readyz")).json())["status"] == "ok"
    metrics = await (await billing.get("/metrics")).text()
    assert "http_requests_total" in metrics
