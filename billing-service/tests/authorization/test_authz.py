"""Abilities by record type, Idempotency-Key replays by caller, and what client-portal users see.
test_client_invitations.py covers invitations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from billing_service.app import create_app
from billing_service.platform.keys import POOL


def draft_for(setup: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "scheduled_date": "2025-06-01",
        "due_date": "2025-06-30",
        "items": [{"label": "Design", "quantity": 10, "price": 100, "tax_percentage": 10}],
    } | overrides


async def token_headers(auth: Any, user_id: int, abilities: list[str]) -> dict[str, str]:
    """Another token of the same user, with these abilities, as the gateway passes it on."""
    from auth_service.keys import TOKENS

    issued = await auth.app[TOKENS].issue(
        user_id=user_id, name="narrow", abilities=abilities, expires_at=None
    )
    return {"Authorization": f"Bearer {await auth.identity_jwt(issued.plain_text)}"}


async def _quote_and_invoice(api: Any, setup: Any) -> tuple[int, int]:
    _, quote = await api("POST", "/api/v1/quotes", setup.headers, draft_for(setup))
    _, invoice = await api("POST", "/api/v1/invoices", setup.headers, draft_for(setup))
    return quote["data"]["id"], invoice["data"]["id"]


# --- a quote needs quotes:* abilities on every route ------------------------------------


async def test_an_invoices_token_reads_no_quote_through_any_route(api, auth, owner):
    quote, invoice = await _quote_and_invoice(api, owner)
    reader = await token_headers(auth, owner.user.id, ["invoices:read"])
    assert (await api("GET", f"/api/v1/invoices/{invoice}", reader))[0] == 200
    status, answer = await api("GET", f"/api/v1/invoices/{quote}", reader)
    assert (status, answer["error_code"]) == (403, "FORBIDDEN")
    assert "quotes:read" in answer["message"]
    assert (await api("GET", "/api/v1/quotes", reader))[0] == 403
    assert (await api("GET", "/api/v1/invoices?type=quote", reader))[0] == 403
    status, listed = await api("GET", "/api/v1/invoices", reader)
    assert status == 200
    assert [item["id"] for item in listed["data"]] == [invoice]
    assert listed["meta"]["total"] == 1  # the count leaves the hidden quote out too
    # With quotes:read as well, the same list shows both.
    both = await token_headers(auth, owner.user.id, ["invoices:read", "quotes:read"])
    status, listed = await api("GET", "/api/v1/invoices", both)
    assert sorted(item["id"] for item in listed["data"]) == sorted([quote, invoice])
    assert listed["meta"]["total"] == 2


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("PUT", "", {"subject": "x"}),
        ("DELETE", "", None),
        ("POST", "/approve", {}),
        ("POST", "/send", {"template": "quote"}),
        ("POST", "/decline", {}),
        ("POST", "/cancel", {}),
        ("POST", "/convert", {"type": "invoice"}),
        ("POST", "/set-due-date", {"due_date": "2025-07-30"}),
        ("GET", "/download", None),
        ("POST", "/regenerate-pdf", None),
    ],
)
async def test_an_invoices_token_changes_no_quote(api, auth, owner, method, action, body):
    quote, _ = await _quote_and_invoice(api, owner)
    invoices_only = await token_headers(auth, owner.user.id, ["invoices:*"])
    status, answer = await api(method, f"/api/v1/invoices/{quote}{action}", invoices_only, body)
    assert (status, answer["error_code"]) == (403, "FORBIDDEN"), answer
    assert "quotes:" in answer["message"]
    status, unchanged = await api("GET", f"/api/v1/quotes/{quote}", owner.headers)
    assert (unchanged["data"]["status"], unchanged["data"]["subject"]) == ("draft", None)


async def test_a_quotes_token_works_quotes_through_the_invoice_routes_and_nothing_else(
    api, auth, owner
):
    quote, invoice = await _quote_and_invoice(api, owner)
    quotes_only = await token_headers(auth, owner.user.id, ["quotes:*"])
    path = f"/api/v1/invoices/{quote}"
    assert (await api("GET", path, quotes_only))[0] == 200
    assert (await api("POST", f"{path}/send", quotes_only, {"template": "quote"}))[0] == 200
    status, approved = await api("POST", f"{path}/approve", quotes_only, {})
    assert (status, approved["data"]["status"]) == (200, "approved")
    assert (await api("GET", f"/api/v1/invoices/{invoice}", quotes_only))[0] == 403
    # Creating through /invoices with type quote needs quotes:create, not invoices:create.
    body = draft_for(owner, type="quote")
    assert (await api("POST", "/api/v1/invoices", quotes_only, body))[0] == 201
    invoices_only = await token_headers(auth, owner.user.id, ["invoices:*"])
    assert (await api("POST", "/api/v1/invoices", invoices_only, body))[0] == 403
    # Turning the quote into an invoice creates an invoice: that needs invoices:create too.
    status, answer = await api("POST", f"{path}/convert", quotes_only, {"type": "invoice"})
    assert status == 403 and "invoices:create" in answer["message"]


# --- Idempotency-Key replays --------------------------------------------------------------


async def test_a_stored_answer_is_replayed_only_to_its_token_and_holds_no_password(
    billing, auth, owner
):
    path = f"/api/v1/recipients/{owner.recipient_id}/contacts"
    invite = {"email": f"idem-{owner.company_id}@client.example", "name": "Jane Client"}
    key = {"Idempotency-Key": "invite-1"}
    first = await billing.post(path, json=invite, headers=owner.headers | key)
    assert first.status == 201
    created = (await first.json())["data"]
    assert len(created["password"]) >= 12
    # Another token of the same user, with only profile:read, replays nothing.
    reader = await token_headers(auth, owner.user.id, ["profile:read"])
    other = await billing.post(path, json=invite, headers=reader | key)
    assert other.status == 403
    assert "Idempotent-Replayed" not in other.headers
    assert created["password"] not in await other.text()
    # What is kept holds no password; the token that asked gets the answer back without it.
    stored = await billing.app[POOL].fetch(
        "SELECT body FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        owner.user.id,
        "invite-1",
    )
    assert stored and all(created["password"].encode() not in row["body"] for row in stored)
    again = await billing.post(path, json=invite, headers=owner.headers | key)
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    replayed = (await again.json())["data"]
    assert replayed == created | {"password": None}


# --- what client-portal users see ---------------------------------------------------------


async def _client_headers(api: Any, auth: Any, setup: Any) -> dict[str, str]:
    _, contact = await api(
        "POST",
        f"/api/v1/recipients/{setup.recipient_id}/contacts",
        setup.headers,
        {"email": f"portal-view-{setup.company_id}@client.example", "name": "Jane Client"},
    )
    return await token_headers(auth, contact["data"]["user_id"], ["*"])


INTERNAL_FIELDS = (
    "description",
    "history",
    "members",
    "available_actions",
    "created_by",
    "company_id",
    "version",
)


async def test_client_portal_answers_are_built_from_an_allow_list(api, auth, owner):
    h = owner.headers
    await api("PUT", f"/api/v1/invoicers/{owner.invoicer_id}", h, {"description": "margin 40%"})
    await api("PUT", f"/api/v1/recipients/{owner.recipient_id}", h, {"description": "slow payer"})
    body = draft_for(
        owner,
        description="internal: chase in May",
        notes="Thank you",
        invoicer_payment_detail_id=owner.payment_detail_id,
    )
    _, created = await api("POST", "/api/v1/invoices", h, body)
    invoice_id = created["data"]["id"]
    await api("POST", f"/api/v1/invoices/{invoice_id}/approve", h, {})
    client = await _client_headers(api, auth, owner)
    status, shown = await api("GET", f"/api/v1/invoices/{invoice_id}", client)
    assert status == 200
    one = shown["data"]
    assert (one["total"], one["notes"], one["invoicenum"]) == ("1100.00", "Thank you", "INV-0001")
    assert one["items"][0]["label"] == "Design"
    assert one["invoicer"]["company_entity"] == "Acme Ltd"
    assert one["payment_detail"]["iban"] == "GB00TEST"
    for name in INTERNAL_FIELDS:
        assert name not in one, name
    for party in ("invoicer", "recipient"):
        assert "description" not in one[party] and "id" not in one[party]
    text = str(shown)
    for secret in ("margin 40%", "slow payer", "chase in May"):
        assert secret not in text
    status, listed = await api("GET", "/api/v1/invoices", client)
    assert [item["id"] for item in listed["data"]] == [invoice_id]
    for name in INTERNAL_FIELDS:
        assert name not in listed["data"][0], name
    # Members still get the full view.
    status, full = await api("GET", f"/api/v1/invoices/{invoice_id}", h)
    assert full["data"]["description"] == "internal: chase in May"
    assert full["data"]["history"] and full["data"]["available_actions"]


async def test_an_invoice_issued_in_the_future_is_hidden_until_its_day(
    aiohttp_client, database_urls, jwks_url, auth, pdf_server, helpers
):
    """Scheduled for tomorrow in the company's timezone: invisible to the client and on the
    public page (lists, show, download); visible once that day has come there."""
    from billing_service.platform.settings import Settings

    now = [datetime(2025, 6, 1, 12, 0, tzinfo=UTC)]
    settings = Settings(
        environment="test",
        database_url=database_urls["billing"],
        auth_jwks_url=jwks_url,
        auth_url=auth.url,
        pdf_url=str(pdf_server.make_url("")).rstrip("/"),
        internal_secret="test-internal-secret-0123456789",
        scheduler_enabled=False,
        mailer_enabled=False,
        log_json=False,
        log_level="WARNING",
    )
    billing = await aiohttp_client(create_app(settings, clock=lambda: now[0]))

    async def api(method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        return await helpers.call(billing, method, path, headers, body)

    user = await auth.user()
    setup = await helpers.setup(
        billing, {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    )
    h = setup.headers
    await api("PATCH", f"/api/v1/companies/{setup.company_id}", h, {"timezone": "Europe/London"})
    body = draft_for(setup, scheduled_date="2025-06-02", due_date="2025-06-30")
    _, created = await api("POST", "/api/v1/invoices", h, body)
    invoice_id, public_url = created["data"]["id"], created["data"]["public_url"]
    assert (await api("POST", f"/api/v1/invoices/{invoice_id}/approve", h, {}))[0] == 200
    client = await _client_headers(api, auth, setup)
    public_path = "/i/" + public_url.rsplit("/i/", 1)[1]

    async def seen() -> list[int]:
        statuses = [
            (await api("GET", f"/api/v1/invoices/{invoice_id}", client))[0],
            (await api("GET", f"/api/v1/invoices/{invoice_id}/download", client))[0],
            (await billing.get(public_path)).status,
        ]
        _, listed = await api("GET", "/api/v1/invoices", client)
        return [*statuses, len(listed["data"])]

    assert await seen() == [404, 404, 404, 0]
    assert (await api("GET", f"/api/v1/invoices/{invoice_id}", h))[0] == 200  # members see it
    # 23:30 UTC on June 1 is already June 2 in London (BST): issued there, so shown.
    now[0] = datetime(2025, 6, 1, 23, 30, tzinfo=UTC)
    assert await seen() == [200, 200, 200, 1]


async def test_regenerating_a_pdf_gives_its_link_only_to_a_token_that_may_download(
    api, auth, owner, pdf_server
):
    _, invoice_id = await _quote_and_invoice(api, owner)
    path = f"/api/v1/invoices/{invoice_id}/regenerate-pdf"
    updater = await token_headers(auth, owner.user.id, ["invoices:update"])
    status, answer = await api("POST", path, updater)
    assert status == 200 and answer["data"]["pdf_url"] is None
    downloader = await token_headers(auth, owner.user.id, ["invoices:update", "invoices:download"])
    status, answer = await api("POST", path, downloader)
    assert status == 200 and "/files/" in answer["data"]["pdf_url"]


async def test_a_customer_shows_only_the_invoices_and_payments_the_token_may_read(api, auth, owner):
    quote_id, invoice_id = await _quote_and_invoice(api, owner)
    await api("POST", f"/api/v1/invoices/{invoice_id}/approve", owner.headers, {})
    await api("POST", f"/api/v1/invoices/{invoice_id}/pay", owner.headers, {"amount": 10})
    path = f"/api/v1/customers/{owner.recipient_id}"
    _, full = await api("GET", path, owner.headers)
    assert {row["id"] for row in full["data"]["recent_invoices"]} == {quote_id, invoice_id}
    assert len(full["data"]["recent_payments"]) == 1
    recipients_only = await token_headers(auth, owner.user.id, ["recipients:read"])
    _, narrow = await api("GET", path, recipients_only)
    assert (narrow["data"]["recent_invoices"], narrow["data"]["recent_payments"]) == ([], [])
    quotes_too = await token_headers(auth, owner.user.id, ["recipients:read", "quotes:read"])
    _, quotes = await api("GET", path, quotes_too)
    assert [row["id"] for row in quotes["data"]["recent_invoices"]] == [quote_id]
    assert quotes["data"]["recent_payments"] == []


async def test_a_stored_regenerate_answer_holds_no_signed_link(
    api, auth, owner, billing, pdf_server
):
    _, invoice_id = await _quote_and_invoice(api, owner)
    headers = owner.headers | {"Idempotency-Key": f"regen-{invoice_id}"}
    path = f"/api/v1/invoices/{invoice_id}/regenerate-pdf"
    status, first = await api("POST", path, headers)
    assert status == 200 and "/files/" in first["data"]["pdf_url"]
    stored = await billing.app[POOL].fetch("SELECT body FROM idempotency_keys")
    assert not any(b"/files/" in bytes(row["body"]) for row in stored if row["body"])
    status, replayed = await api("POST", path, headers)
    assert status == 200 and replayed["data"]["pdf_url"] is None
