"""INNOVATECH's client portal: its users (kind `client`) read their invoices in the portal's
words (`Unpaid`, `Paid`, `Cancelled`), their quotes by `stage` (`Delivered`, `Accepted`,
`Lost`), empty text as "", invoices only under /invoices, with any valid token of theirs.
Members keep the lower-case statuses on the same routes."""

from __future__ import annotations

from typing import Any

import pytest

INVOICE = {
    "scheduled_date": "2026-03-01",
    "due_date": "2026-03-15",
    "items": [{"label": "Consulting", "quantity": 1, "price": 1500, "tax_percentage": 15}],
}
QUOTE = {
    "scheduled_date": "2026-02-15",
    "valid_until": "2026-03-15",
    "subject": "Website Redesign Proposal",
    "notes": "Includes responsive design and SEO audit.",
    "items": [{"label": "Redesign", "quantity": 1, "price": 25000, "tax_percentage": 15}],
}
# The fields INNOVATECH's example answers show, list and show alike.
INVOICE_FIELDS = {
    "id",
    "invoicenum",
    "status",
    "date",
    "duedate",
    "datepaid",
    "subtotal",
    "tax",
    "total",
    "paymentmethod",
    "notes",
}
QUOTE_FIELDS = {
    "id",
    "subject",
    "stage",
    "datecreated",
    "validuntil",
    "subtotal",
    "tax1",
    "tax2",
    "total",
    "customernotes",
}
INTERNAL = ("description", "history", "members", "available_actions", "created_by", "version")


class Portal:
    """A company (its owner's headers `h`), one recipient and that recipient's portal user."""

    def __init__(self, api: Any, auth: Any, helpers: Any, setup: Any, contact: Any) -> None:
        self.api, self.auth, self.helpers, self.setup = api, auth, helpers, setup
        self.h = setup.headers
        self.email, self.password = contact["email"], contact["password"]

    async def token(self, abilities: list[str]) -> dict[str, str]:
        return await self.helpers.client_token(self.auth, self.email, self.password, abilities)

    async def create(self, path: str, body: dict[str, Any], *actions: Any) -> int:
        recipient = {"invoice_recipient_id": self.setup.recipient_id}
        status, created = await self.api("POST", path, self.h, body | recipient)
        assert status == 201, created
        invoice_id = int(created["data"]["id"])
        for action, payload in actions:
            status, answer = await self.api(
                "POST", f"/api/v1/invoices/{invoice_id}/{action}", self.h, payload
            )
            assert status in (200, 201), (action, answer)
        return invoice_id


@pytest.fixture
async def portal(api: Any, auth: Any, helpers: Any, make_setup: Any) -> Portal:
    setup = await make_setup(currency="ZAR")
    status, contact = await api(
        "POST",
        f"/api/v1/recipients/{setup.recipient_id}/contacts",
        setup.headers,
        {"email": f"jane-{setup.company_id}@mokoena.example", "name": "Jane Mokoena"},
    )
    assert status == 201
    return Portal(api, auth, helpers, setup, contact["data"])


APPROVE = ("approve", {})
SEND = ("send", {"template": "invoice-issued"})


async def test_invoices_speak_the_portals_words(api, portal):
    paid = await portal.create(
        "/api/v1/invoices",
        INVOICE,
        APPROVE,
        ("pay", {"amount": "1725.00", "paid_date": "2026-03-10", "payment_method": "payfast"}),
    )
    approved = await portal.create("/api/v1/invoices", INVOICE, APPROVE)
    overdue = await portal.create("/api/v1/invoices", INVOICE | {"due_date": "2026-03-02"}, SEND)
    cancelled = await portal.create("/api/v1/invoices", INVOICE, APPROVE, ("cancel", {}))
    draft = await portal.create("/api/v1/invoices", INVOICE)
    client = await portal.token(["invoices:read"])
    status, listed = await api("GET", "/api/v1/invoices", client)
    assert status == 200 and listed["success"] is True
    shown = {row["id"]: row for row in listed["data"]}
    assert set(shown) == {paid, approved, overdue, cancelled}  # never the draft
    words = {paid: "Paid", approved: "Unpaid", overdue: "Unpaid", cancelled: "Cancelled"}
    assert {i: row["status"] for i, row in shown.items()} == words
    for invoice_id, row in shown.items():
        assert set(row) >= INVOICE_FIELDS, invoice_id
        status, one = await api("GET", f"/api/v1/invoices/{invoice_id}", client)
        assert status == 200 and set(one["data"]) >= INVOICE_FIELDS
        assert one["data"]["status"] == words[invoice_id]
        for name in INTERNAL:
            assert name not in row and name not in one["data"], name
    assert {k: shown[paid][k] for k in INVOICE_FIELDS - {"id"}} == {
        "invoicenum": "INV-0001",
        "status": "Paid",
        "date": "2026-03-01",
        "duedate": "2026-03-15",
        "datepaid": "2026-03-10",
        "subtotal": "1500.00",
        "tax": "225.00",
        "total": "1725.00",
        "paymentmethod": "payfast",
        "notes": "",
    }
    unpaid = shown[approved]
    assert (unpaid["datepaid"], unpaid["paymentmethod"], unpaid["notes"]) == (None, "", "")
    assert (await api("GET", f"/api/v1/invoices/{draft}", client))[0] == 404
    # Members keep the lower-case statuses on the same routes.
    _, member_view = await api("GET", "/api/v1/invoices", portal.h)
    statuses = {row["id"]: row["status"] for row in member_view["data"]}
    assert [statuses[i] for i in (paid, approved, overdue, cancelled, draft)] == [
        "paid",
        "approved",
        "sent",
        "cancelled",
        "draft",
    ]
    assert (await api("GET", f"/api/v1/invoices/{paid}", portal.h))[1]["data"]["notes"] is None


async def test_a_client_filters_in_the_portals_words(api, portal):
    paid = await portal.create("/api/v1/invoices", INVOICE, APPROVE, ("pay", {"amount": "1725.00"}))
    approved = await portal.create("/api/v1/invoices", INVOICE, APPROVE)
    sent = await portal.create("/api/v1/invoices", INVOICE, SEND)
    delivered = await portal.create("/api/v1/quotes", QUOTE, ("send", {"template": "quote"}))
    client = await portal.token(["invoices:read", "quotes:read"])

    async def listed(path: str) -> set[int]:
        status, answer = await api("GET", path, client)
        assert status == 200, answer
        return {row["id"] for row in answer["data"]}

    assert await listed("/api/v1/invoices?status=Unpaid") == {approved, sent}
    assert await listed("/api/v1/invoices?status=paid") == {paid}  # our own words still work
    assert await listed("/api/v1/invoices?status=PAID") == {paid}
    assert await listed("/api/v1/quotes?status=Delivered") == {delivered}
    status, refused = await api("GET", "/api/v1/invoices?status=Someday", client)
    assert status == 422 and "status" in refused["errors"]
    # Members filter by the platform's statuses, where "Unpaid" is no status.
    assert (await api("GET", "/api/v1/invoices?status=Unpaid", portal.h))[0] == 422


async def test_quotes_have_a_stage_and_the_documents_fields(api, portal):
    delivered = await portal.create("/api/v1/quotes", QUOTE, ("send", {"template": "quote"}))
    accepted = await portal.create(
        "/api/v1/quotes", QUOTE, ("send", {"template": "quote"}), APPROVE
    )
    converted = await portal.create(
        "/api/v1/quotes", QUOTE, APPROVE, ("convert", {"type": "invoice"})
    )
    lost = await portal.create(
        "/api/v1/quotes", QUOTE | {"notes": None}, ("send", {"template": "quote"}), ("decline", {})
    )
    client = await portal.token(["quotes:read"])
    status, listed = await api("GET", "/api/v1/quotes", client)
    assert status == 200
    shown = {row["id"]: row for row in listed["data"]}
    stages = {delivered: "Delivered", accepted: "Accepted", converted: "Accepted", lost: "Lost"}
    assert {i: row["stage"] for i, row in shown.items()} == stages
    for quote_id, row in shown.items():
        status, one = await api("GET", f"/api/v1/quotes/{quote_id}", client)
        assert status == 200 and set(one["data"]) >= QUOTE_FIELDS and set(row) >= QUOTE_FIELDS
        assert one["data"]["stage"] == one["data"]["status"] == stages[quote_id]
        for name in INTERNAL:
            assert name not in row and name not in one["data"], name
    assert {k: shown[delivered][k] for k in QUOTE_FIELDS - {"id"}} == {
        "subject": "Website Redesign Proposal",
        "stage": "Delivered",
        "datecreated": "2026-02-15",
        "validuntil": "2026-03-15",
        "subtotal": "25000.00",
        "tax1": "3750.00",
        "tax2": "0.00",
        "total": "28750.00",
        "customernotes": "Includes responsive design and SEO audit.",
    }
    assert shown[lost]["customernotes"] == ""
    _, member_view = await api("GET", f"/api/v1/quotes/{lost}", portal.h)
    assert (member_view["data"]["status"], member_view["data"]["stage"]) == ("declined", "declined")


async def test_any_valid_client_token_reads_its_invoices_and_only_invoices(api, auth, portal):
    invoice = await portal.create("/api/v1/invoices", INVOICE, APPROVE)
    quote = await portal.create("/api/v1/quotes", QUOTE, ("send", {"template": "quote"}))
    profile_only = await portal.token(["profile:read"])
    status, listed = await api("GET", "/api/v1/invoices", profile_only)
    assert (status, [row["id"] for row in listed["data"]]) == (200, [invoice])
    assert listed["meta"]["total"] == 1
    assert (await api("GET", f"/api/v1/invoices/{invoice}", profile_only))[0] == 200
    # Everything else keeps its ability: quotes, downloads.
    assert (await api("GET", "/api/v1/quotes", profile_only))[0] == 403
    assert (await api("GET", f"/api/v1/quotes/{quote}", profile_only))[0] == 403
    assert (await api("GET", f"/api/v1/invoices/{invoice}/download", profile_only))[0] == 403
    # /invoices shows invoices only, whatever the token: quotes live under /quotes.
    everything = await portal.token(["*"])
    _, listed = await api("GET", "/api/v1/invoices", everything)
    assert [row["id"] for row in listed["data"]] == [invoice]
    assert (await api("GET", f"/api/v1/invoices/{quote}", everything))[0] == 404
    assert (await api("GET", f"/api/v1/quotes/{quote}", everything))[0] == 200
    status, answer = await api("GET", "/api/v1/invoices?type=quote", everything)
    assert (status, list(answer["errors"])) == (422, ["type"])
    # Members still need invoices:read.
    member = await auth.bearer(["profile:read"])
    for path in ("/api/v1/invoices", f"/api/v1/invoices/{invoice}"):
        status, answer = await api("GET", path, member)
        assert (status, answer["error"]) == (403, "forbidden"), path
    # Another client sees none of it, whatever its token.
    stranger = await auth.bearer(["*"], kind="client")
    assert (await api("GET", "/api/v1/invoices", stranger))[1]["data"] == []
    assert (await api("GET", f"/api/v1/invoices/{invoice}", stranger))[0] == 404
    # And a client still writes nothing.
    for method, path in (("POST", "/api/v1/invoices"), ("PUT", f"/api/v1/invoices/{invoice}")):
        assert (await api(method, path, everything, INVOICE))[0] == 403, path
