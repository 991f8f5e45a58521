"""INNOVATECH's client-portal examples, replayed through the gateway as its clients send them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.stack


async def test_innovatech_client_portal_reads(stack, http, send, innovatech_portal):
    portal = await innovatech_portal()
    member, customer_id, client_email = portal.member, portal.customer_id, portal.email
    invoice_ids = []
    for _ in range(2):
        _, created = await send(
            "POST",
            "/api/v1/invoices",
            member,
            {
                "customer_id": customer_id,
                "issue_date": "2026-03-01",
                "due_date": "2026-03-15",
                "items": [
                    {
                        "description": "Consulting",
                        "quantity": 1,
                        "unit_price": 1500,
                        "tax_percentage": 15,
                    }
                ],
            },
        )
        invoice_ids.append(created["data"]["id"])
    await send("POST", f"/api/v1/invoices/{invoice_ids[1]}/approve", member, {})
    _, quote = await send(
        "POST",
        "/api/v1/quotes",
        member,
        {
            "customer_id": customer_id,
            "subject": "Website Redesign Proposal",
            "valid_until": "2027-03-15",
            "items": [
                {
                    "description": "Redesign",
                    "quantity": 1,
                    "unit_price": 25000,
                    "tax_percentage": 15,
                }
            ],
        },
    )
    await send(
        "POST",
        f"/api/v1/invoices/{quote['data']['id']}/send",
        member,
        {"template": "quote"},
    )
    # The INNOVATECH token example, verbatim.
    status, issued = await send(
        "POST",
        "/api/v1/tokens",
        None,
        {
            "email": client_email,
            "password": "portal-password-1",
            "device_name": "erp-integration",
            "abilities": ["invoices:read", "invoices:download"],
        },
    )
    assert status == 201 and issued["abilities"] == ["invoices:read", "invoices:download"]
    client = issued["token"]
    status, listed = await send("GET", "/api/v1/invoices", client)
    assert status == 200
    assert [i["id"] for i in listed["data"] if i["type"] == "invoice"] == [
        invoice_ids[1]
    ]  # no drafts
    first = next(i for i in listed["data"] if i["id"] == invoice_ids[1])
    assert (first["subtotal"], first["tax"], first["total"]) == ("1500.00", "225.00", "1725.00")
    assert (first["invoicenum"], first["date"], first["duedate"]) == (
        "INV-0002",
        "2026-03-01",
        "2026-03-15",
    )
    assert listed["meta"]["per_page"] == 15 and "last_page" in listed["meta"]
    assert "next" in listed["links"] and "first" in listed["links"]
    status, one = await send("GET", f"/api/v1/invoices/{invoice_ids[1]}", client)
    assert status == 200 and one["data"]["total"] == "1725.00"
    assert (await send("GET", f"/api/v1/invoices/{invoice_ids[0]}", client))[0] == 404
    assert (await send("GET", "/api/v1/quotes", client))[0] == 403  # no quotes:read
    status, with_quotes = await send(
        "POST",
        "/api/v1/tokens",
        None,
        {
            "email": client_email,
            "password": "portal-password-1",
            "device_name": "quotes",
            "abilities": ["quotes:read", "profile:read"],
        },
    )
    quotes_token = with_quotes["token"]
    status, quotes = await send("GET", "/api/v1/quotes", quotes_token)
    assert status == 200
    q = quotes["data"][0]
    assert (q["subject"], q["stage"], q["validuntil"], q["total"], q["tax2"]) == (
        "Website Redesign Proposal",
        "Delivered",  # issue 9: the portal's word for a sent quote
        "2027-03-15",
        "28750.00",
        "0.00",
    )
    status, profile = await send("GET", "/api/v1/profile", quotes_token)
    assert status == 200 and profile["data"]["email"] == client_email
    for method, path in (
        ("POST", "/api/v1/invoices"),
        ("GET", "/api/v1/customers"),
        ("POST", f"/api/v1/invoices/{invoice_ids[1]}/pay"),
    ):
        status, _ = await send(method, path, client, {"amount": 1})
        assert status in (403, 404), (method, path)
