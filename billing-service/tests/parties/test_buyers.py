"""InvoisX's /buyers: the customers under another name (recipients:* abilities, the same role
rules, tenant scope and answers as /customers)."""

from __future__ import annotations

from typing import Any

import pytest

ACME = {
    "company_name": "Acme Corp",
    "contact_name": "John Doe",
    "email": "john@acme.com",
    "phone": "+1 555-0100",
}


async def _headers(auth: Any, user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}


async def test_buyers_are_customers_with_every_crud_route(api, auth):
    headers = await auth.bearer()
    await api("POST", "/api/v1/companies", headers, {"name": "InvoisX Co"})
    status, created = await api("POST", "/api/v1/buyers", headers, ACME)
    assert status == 201 and created["success"] is True
    buyer = created["data"]
    assert (buyer["company_name"], buyer["contact_name"], buyer["email"]) == (
        "Acme Corp",
        "John Doe",
        "john@acme.com",
    )
    path = f"/api/v1/buyers/{buyer['id']}"
    status, listed = await api("GET", "/api/v1/buyers", headers)
    assert status == 200 and [b["id"] for b in listed["data"]] == [buyer["id"]]
    assert listed["meta"]["total"] == 1 and listed["success"] is True
    status, one = await api("GET", path, headers)
    assert status == 200 and one["data"]["recent_invoices"] == []
    # The same record as the customer and the recipient of the other seeds.
    assert (await api("GET", f"/api/v1/customers/{buyer['id']}", headers))[1]["data"][
        "company_name"
    ] == "Acme Corp"
    assert (await api("GET", f"/api/v1/recipients/{buyer['id']}", headers))[1]["data"][
        "company_entity"
    ] == "Acme Corp"
    status, updated = await api("PUT", path, headers, {"company_name": "Acme Corporation"})
    assert (status, updated["data"]["company_name"]) == (200, "Acme Corporation")
    status, patched = await api("PATCH", path, headers, {"phone": "+1 555-0199"})
    assert (status, patched["data"]["phone"]) == (200, "+1 555-0199")
    assert (await api("DELETE", path, headers))[0] == 204
    assert (await api("GET", path, headers))[0] == 404


async def test_bad_buyers_are_422_naming_the_field_and_write_nothing(api, auth):
    headers = await auth.bearer()
    await api("POST", "/api/v1/companies", headers, {"name": "Strict Co"})
    for body, field in (
        ({"contact_name": "No Company"}, "company_name"),
        (ACME | {"email": "not-an-email"}, "email"),
        (ACME | {"company_name": ""}, "company_name"),
        (ACME | {"currency": "EURO"}, "currency"),
    ):
        status, answer = await api("POST", "/api/v1/buyers", headers, body)
        assert (status, answer["success"], answer["error"]) == (422, False, "validation_error")
        assert field in answer["errors"], body
    assert (await api("GET", "/api/v1/buyers", headers))[1]["data"] == []


async def _colleague(api: Any, auth: Any, setup: Any, role: str, abilities: list[str]) -> Any:
    """A user of the setup's company with this role, holding a token with these abilities."""
    user = await auth.user(abilities)
    path = f"/api/v1/companies/{setup.company_id}/members"
    status, _ = await api("POST", path, setup.headers, {"email": user.email, "role": role})
    assert status == 201
    return await _headers(auth, user)


ROUTES = [
    ("GET", "/api/v1/buyers", "recipients:read"),
    ("POST", "/api/v1/buyers", "recipients:create"),
    ("GET", "/api/v1/buyers/{id}", "recipients:read"),
    ("PUT", "/api/v1/buyers/{id}", "recipients:update"),
    ("PATCH", "/api/v1/buyers/{id}", "recipients:update"),
    ("DELETE", "/api/v1/buyers/{id}", "recipients:delete"),
]


@pytest.mark.parametrize(("method", "path", "ability"), ROUTES)
async def test_every_buyer_route_needs_its_recipients_ability(
    api, auth, make_setup, method, path, ability
):
    setup = await make_setup()
    path = path.format(id=setup.recipient_id)
    action = ability.partition(":")[2]
    # InvoisX's Create/Read/Update/Delete permissions are `*:<action>`.
    other = "create" if action == "read" else "read"
    lacking = await _colleague(api, auth, setup, "admin", [f"*:{other}", "invoices:*"])
    status, answer = await api(method, path, lacking, ACME)
    assert (status, answer["error"]) == (403, "forbidden") and ability in answer["message"]
    for abilities in ([f"*:{action}"], [ability], ["recipients:*"]):
        allowed = await _colleague(api, auth, setup, "admin", abilities)
        status, answer = await api(method, path, allowed, ACME)
        assert status in (200, 201, 204), (abilities, answer)
        if method == "DELETE":
            break


async def test_members_read_buyers_and_only_managers_change_them(api, auth, make_setup):
    setup = await make_setup()
    one = f"/api/v1/buyers/{setup.recipient_id}"
    member = await _colleague(api, auth, setup, "member", ["*"])
    assert (await api("GET", "/api/v1/buyers", member))[0] == 200
    assert (await api("GET", one, member))[0] == 200
    for method, path in (("POST", "/api/v1/buyers"), ("PUT", one), ("PATCH", one), ("DELETE", one)):
        status, answer = await api(method, path, member, ACME)
        assert (status, answer["error"]) == (403, "forbidden"), method
        assert "creating, changing or deleting recipients" in answer["message"]
    admin = await _colleague(api, auth, setup, "admin", ["*"])
    assert (await api("PATCH", one, admin, {"contact_name": "Jane"}))[0] == 200


async def test_another_tenants_buyers_are_404_and_never_listed(api, make_setup):
    setup, stranger = await make_setup(), await make_setup()
    one = f"/api/v1/buyers/{setup.recipient_id}"
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        status, answer = await api(method, one, stranger.headers, ACME)
        assert (status, answer["error"]) == (404, "not_found"), method
    _, listed = await api("GET", "/api/v1/buyers", stranger.headers)
    assert setup.recipient_id not in [row["id"] for row in listed["data"]]
    assert (await api("GET", one, setup.headers))[1]["data"]["company_name"] == "Client Corp"


@pytest.mark.parametrize(("method", "path", "ability"), ROUTES)
async def test_client_portal_users_reach_no_buyer_route(api, auth, method, path, ability):
    portal = await auth.bearer(kind="client")
    status, answer = await api(method, path.format(id=1), portal, ACME)
    assert (status, answer["error"]) == (403, "forbidden")
