"""InvoiceFlow's API reference, replayed as a client written from it would: a fresh account
that never created a company, the document's own bodies (no currency, no invoicer, no team),
and the fields its example answers show. tests/test_seeds.py covers the rest of its flows."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.stack

CUSTOMER = {
    "company_name": "Acme Corp",
    "contact_name": "John Doe",
    "email": "john@acme.com",
    "phone": "+1 555-0100",
}
PRODUCT = {"type": "service", "name": "Web Development", "price": 150.00, "unit": "hour"}


def invoice_body(customer_id: int) -> dict[str, object]:
    """The document's "Create an invoice" example, verbatim."""
    return {
        "customer_id": customer_id,
        "issue_date": "2025-01-15",
        "due_date": "2025-02-15",
        "items": [{"description": "Web Development", "quantity": 40, "unit_price": 150}],
        "notes": "Thank you!",
    }


async def _customer(send, token: str, body: dict[str, object] = CUSTOMER) -> int:
    status, created = await send("POST", "/api/v1/customers", token, body)
    assert status == 201, created
    return int(created["data"]["id"])


async def test_a_fresh_account_gets_one_personal_team_and_creates_at_once(send, new_client):
    """Every member has a team: the first requests that need a current company, sent at the
    same time, create ONE personal team named after the user ("Stack User")."""
    owner = await new_client()
    results = await asyncio.gather(
        *(send("POST", "/api/v1/customers", owner.token, CUSTOMER) for _ in range(4)),
        send("POST", "/api/v1/products", owner.token, PRODUCT),
    )
    *customers, (status, product) = results
    for status_code, created in customers:
        assert status_code == 201, created
        assert created["message"] == "Customer created"
        data = created["data"]
        assert {key: data[key] for key in ("company_name", "contact_name", "email")} == {
            key: CUSTOMER[key] for key in ("company_name", "contact_name", "email")
        }
        assert isinstance(data["id"], int)
    assert status == 201, product
    assert {key: product["data"][key] for key in ("type", "name", "price", "unit")} == {
        "type": "service",
        "name": "Web Development",
        "price": "150.00",
        "unit": "hour",
    }
    status, teams = await send("GET", "/api/v1/teams", owner.token)
    assert status == 200
    [team] = teams["data"]
    assert (team["name"], team["is_current"], team["is_owner"], team["role"]) == (
        "Stack's Team",
        True,
        True,
        "admin",
    )
    assert team["plan"]["name"]
    companies = {customer["data"]["company_id"] for _, customer in customers}
    assert companies == {product["data"]["company_id"]} == {team["id"]}
    status, current = await send("GET", "/api/v1/teams/current", owner.token)
    assert (status, current["data"]["id"], current["data"]["role"]) == (200, team["id"], "admin")
    status, listed = await send("GET", "/api/v1/customers", owner.token)
    assert len(listed["data"]) == 4


async def test_teams_show_the_owner_as_admin_and_members_keep_their_role(send, new_client, stack):
    owner, admin, member = await new_client(), await new_client(), await new_client()
    status, company = await send("POST", "/api/v1/companies", owner.token, {"name": "My Company"})
    company_id = company["data"]["id"]
    for user, role in ((admin, "admin"), (member, "member")):
        status, added = await send(
            "POST",
            f"/api/v1/companies/{company_id}/members",
            owner.token,
            {"email": user.email, "role": role},
        )
        assert status == 201, added
    seen = {}
    for name, user in (("owner", owner), ("admin", admin), ("member", member)):
        status, teams = await send("GET", "/api/v1/teams", user.token)
        [team] = [t for t in teams["data"] if t["id"] == company_id]
        seen[name] = (team["role"], team["is_owner"])
    assert seen == {
        "owner": ("admin", True),
        "admin": ("admin", False),
        "member": ("member", False),
    }
    status, members = await send("GET", f"/api/v1/companies/{company_id}/members", owner.token)
    assert sorted(m["role"] for m in members["data"]) == ["admin", "member", "owner"]


async def test_the_documents_invoice_body_defaults_currency_and_invoicer(send, new_client):
    owner = await new_client()
    customer_id = await _customer(send, owner.token)
    # Concurrent first invoices of a company without an invoicer: one default invoicer.
    results = await asyncio.gather(
        *(
            send("POST", "/api/v1/invoices", owner.token, invoice_body(customer_id))
            for _ in range(3)
        )
    )
    for status, created in results:
        assert status == 201, created
        assert created["message"] == "Invoice created"
    first = min((created["data"] for _, created in results), key=lambda d: d["id"])
    assert {
        key: first[key]
        for key in (
            "invoice_number",
            "status",
            "customer_id",
            "subtotal",
            "tax",
            "total",
            "issue_date",
            "due_date",
            "currency",
        )
    } == {
        "invoice_number": "INV-0001",
        "status": "draft",
        "customer_id": customer_id,
        "subtotal": "6000.00",
        "tax": "0.00",
        "total": "6000.00",
        "issue_date": "2025-01-15",
        "due_date": "2025-02-15",
        "currency": "USD",  # the company's: the customer and the new invoicer have none
    }
    assert first["created_at"]
    assert sorted(created["data"]["invoice_number"] for _, created in results) == [
        "INV-0001",
        "INV-0002",
        "INV-0003",
    ]
    status, invoicers = await send("GET", "/api/v1/invoicers", owner.token)
    [invoicer] = invoicers["data"]
    assert (invoicer["company_entity"], invoicer["default"]) == ("Stack's Team", True)
    assert {created["data"]["invoicer_id"] for _, created in results} == {invoicer["id"]}

    # List, with the document's filter, and show: the fields its answers show.
    status, listed = await send("GET", "/api/v1/invoices?status=draft", owner.token)
    assert status == 200 and listed["meta"]["current_page"] == 1 and listed["meta"]["total"] == 3
    row = next(r for r in listed["data"] if r["id"] == first["id"])
    assert (row["invoice_number"], row["status"], row["total"], row["currency"]) == (
        "INV-0001",
        "draft",
        "6000.00",
        "USD",
    )
    assert (row["customer"]["id"], row["customer"]["name"], row["due_date"]) == (
        customer_id,
        "Acme Corp",
        "2025-02-15",
    )
    status, shown = await send("GET", f"/api/v1/invoices/{first['id']}", owner.token)
    assert status == 200
    assert shown["data"]["customer"]["id"] == customer_id and shown["data"]["total"] == "6000.00"
    assert [item["description"] for item in shown["data"]["items"]] == ["Web Development"]

    # The customer's currency comes first; an estimate takes the same body.
    euro = await _customer(send, owner.token, CUSTOMER | {"currency": "EUR"})
    status, created = await send("POST", "/api/v1/invoices", owner.token, invoice_body(euro))
    assert (status, created["data"]["currency"]) == (201, "EUR")
    status, estimate = await send("POST", "/api/v1/estimates", owner.token, invoice_body(euro))
    assert (status, estimate["data"]["currency"], estimate["data"]["invoicer_id"]) == (
        201,
        "EUR",
        invoicer["id"],
    )


async def test_a_member_creates_the_first_invoice_of_a_company_without_invoicer(send, new_client):
    """The default invoicer is made by the system from the company, not by the member (who
    may not create invoicers)."""
    owner, member = await new_client(), await new_client()
    customer_id = await _customer(send, owner.token)
    _, team = await send("GET", "/api/v1/teams/current", owner.token)
    status, _ = await send(
        "POST",
        f"/api/v1/companies/{team['data']['id']}/members",
        owner.token,
        {"email": member.email, "role": "member"},
    )
    assert status == 201
    status, refused = await send(
        "POST", "/api/v1/invoicers", member.token, {"company_entity": "Mine"}
    )
    assert status == 403, refused
    status, created = await send(
        "POST", "/api/v1/invoices", member.token, invoice_body(customer_id)
    )
    assert status == 201, created
    assert created["data"]["invoicer_id"] is not None and created["data"]["currency"] == "USD"


async def test_deleting_a_customer_archives_it_once_nothing_is_unpaid(send, new_client):
    owner = await new_client()
    customer_id = await _customer(send, owner.token)
    status, created = await send("POST", "/api/v1/invoices", owner.token, invoice_body(customer_id))
    invoice_id = created["data"]["id"]

    # A draft is an unpaid invoice in the making; so is an approved one with a balance due.
    status, conflict = await send("DELETE", f"/api/v1/customers/{customer_id}", owner.token)
    assert (status, conflict["error_code"]) == (409, "CONFLICT")
    await send("POST", f"/api/v1/invoices/{invoice_id}/approve", owner.token, {})
    status, conflict = await send("DELETE", f"/api/v1/customers/{customer_id}", owner.token)
    assert (status, conflict["error_code"]) == (409, "CONFLICT")
    assert "unpaid" in conflict["message"]
    status, paid = await send(
        "POST", f"/api/v1/invoices/{invoice_id}/pay", owner.token, {"amount": "6000.00"}
    )
    assert (status, paid["data"]["status"]) == (200, "paid")

    status, _ = await send("DELETE", f"/api/v1/customers/{customer_id}", owner.token)
    assert status == 204
    status, listed = await send("GET", "/api/v1/customers", owner.token)
    assert customer_id not in [c["id"] for c in listed["data"]]
    status, gone = await send("GET", f"/api/v1/customers/{customer_id}", owner.token)
    assert (status, gone["error_code"]) == (404, "NOT_FOUND")
    assert (await send("DELETE", f"/api/v1/customers/{customer_id}", owner.token))[0] == 404
    # Its invoices keep it, name included.
    status, shown = await send("GET", f"/api/v1/invoices/{invoice_id}", owner.token)
    assert (status, shown["data"]["customer_id"]) == (200, customer_id)
    assert shown["data"]["customer"]["name"] == "Acme Corp"
    status, listed = await send("GET", "/api/v1/invoices?status=paid", owner.token)
    assert [(r["id"], r["customer"]["name"]) for r in listed["data"]] == [(invoice_id, "Acme Corp")]
    # It cannot be billed again.
    status, refused = await send("POST", "/api/v1/invoices", owner.token, invoice_body(customer_id))
    assert status == 422 and "invoice_recipient_id" in refused["errors"], refused

    # A customer no invoice names is simply deleted.
    unused = await _customer(send, owner.token, CUSTOMER | {"company_name": "Unused Ltd"})
    assert (await send("DELETE", f"/api/v1/customers/{unused}", owner.token))[0] == 204


async def test_recipients_keep_invoicemees_delete_rule_and_members_cannot_delete(send, new_client):
    owner, member = await new_client(), await new_client()
    customer_id = await _customer(send, owner.token)
    _, team = await send("GET", "/api/v1/teams/current", owner.token)
    await send(
        "POST",
        f"/api/v1/companies/{team['data']['id']}/members",
        owner.token,
        {"email": member.email, "role": "member"},
    )
    _, created = await send("POST", "/api/v1/invoices", owner.token, invoice_body(customer_id))
    invoice_id = created["data"]["id"]
    await send("POST", f"/api/v1/invoices/{invoice_id}/approve", owner.token, {})
    await send("POST", f"/api/v1/invoices/{invoice_id}/pay", owner.token, {"amount": 6000})
    status, refused = await send("DELETE", f"/api/v1/customers/{customer_id}", member.token)
    assert (status, refused["error_code"]) == (403, "FORBIDDEN")
    # Paid, but referenced: /recipients still refuses to delete it.
    status, conflict = await send("DELETE", f"/api/v1/recipients/{customer_id}", owner.token)
    assert (status, conflict["error_code"]) == (409, "CONFLICT")
    status, _ = await send("GET", f"/api/v1/recipients/{customer_id}", owner.token)
    assert status == 200


async def test_the_references_other_routes_from_a_fresh_account(send, new_client):
    """The routes the document lists without an example answer (tests/test_seeds.py replays
    the ones with one), as a fresh account's client calls them."""
    owner = await new_client()
    status, invalid = await send("POST", "/api/v1/customers", owner.token, {"email": "x@y.z"})
    assert status == 422 and invalid["errors"]["company_name"] and invalid["message"]
    customer_id = await _customer(send, owner.token)
    status, updated = await send(
        "PUT", f"/api/v1/customers/{customer_id}", owner.token, {"phone": "+1 555-0199"}
    )
    assert (status, updated["data"]["phone"]) == (200, "+1 555-0199")

    status, product = await send("POST", "/api/v1/products", owner.token, PRODUCT)
    product_id = product["data"]["id"]
    status, found = await send(
        "GET", "/api/v1/products?search=Web&type=service&active=1", owner.token
    )
    assert [p["id"] for p in found["data"]] == [product_id]
    status, changed = await send(
        "PUT", f"/api/v1/products/{product_id}", owner.token, {"price": 160}
    )
    assert (status, changed["data"]["price"]) == (200, "160.00")
    assert (await send("DELETE", f"/api/v1/products/{product_id}", owner.token))[0] == 204

    _, first = await send("POST", "/api/v1/invoices", owner.token, invoice_body(customer_id))
    _, second = await send("POST", "/api/v1/invoices", owner.token, invoice_body(customer_id))
    invoice_id = first["data"]["id"]
    status, edited = await send(
        "PUT", f"/api/v1/invoices/{invoice_id}", owner.token, {"notes": "Net 30"}
    )
    assert (status, edited["data"]["notes"]) == (200, "Net 30")
    assert (await send("DELETE", f"/api/v1/invoices/{second['data']['id']}", owner.token))[0] == 204
    status, searched = await send("GET", "/api/v1/invoices?search=Acme&per_page=100", owner.token)
    assert [row["id"] for row in searched["data"]] == [invoice_id]
    assert searched["meta"]["per_page"] == 100
    status, shown = await send("GET", f"/api/v1/customers/{customer_id}", owner.token)
    assert [row["invoice_number"] for row in shown["data"]["recent_invoices"]] == ["INV-0001"]
    assert shown["data"]["recent_payments"] == []

    status, estimate = await send(
        "POST", "/api/v1/estimates", owner.token, invoice_body(customer_id)
    )
    assert (status, estimate["data"]["status"]) == (201, "draft")
    estimate_id = estimate["data"]["id"]
    status, listed = await send("GET", "/api/v1/estimates?status=draft", owner.token)
    assert [e["id"] for e in listed["data"]] == [estimate_id]
    status, one = await send("GET", f"/api/v1/estimates/{estimate_id}", owner.token)
    assert (status, one["data"]["total"]) == (200, "6000.00")
    await send("POST", f"/api/v1/invoices/{estimate_id}/send", owner.token, {"template": "quote"})
    await send("POST", f"/api/v1/invoices/{estimate_id}/decline", owner.token)
    status, rejected = await send("GET", "/api/v1/estimates?status=rejected", owner.token)
    assert [(e["id"], e["status"]) for e in rejected["data"]] == [(estimate_id, "rejected")]
