"""InvoiceMee's rules (issue 9): a send reaches everyone the invoice names, and a new invoice may be
imported in any documented status. test_tenant_references.py covers other tenants' records."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from billing_service.documents.keys import DOCUMENTS
from billing_service.events.keys import EVENTS
from billing_service.mail.services.mailer import Mailer
from billing_service.platform.keys import POOL, SETTINGS

from ..helpers.invoices import invoice_body


def billing_api(billing, helpers):
    """The `api` fixture's call, for a billing-service started with other settings."""

    async def api(method, path, headers, body=None):
        return await helpers.call(billing, method, path, headers, body)

    return api


async def join(api, setup, auth, role="member", abilities=None):
    """A new user made a member of the setup's company: (user, their headers)."""
    user = await auth.user(abilities)
    status, body = await api(
        "POST",
        f"/api/v1/companies/{setup.company_id}/members",
        setup.headers,
        {"email": user.email, "role": role},
    )
    assert status == 201, body
    return user, {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}


async def outbox(billing, invoice_id):
    return await billing.app[POOL].fetch(
        "SELECT to_email, send_id FROM email_outbox WHERE invoice_id = $1 ORDER BY id",
        invoice_id,
    )


# --- sending reaches the recipient, the invoice's members and the recipient's contacts ----


async def test_a_send_reaches_recipient_members_and_contacts_each_once(
    start_billing, auth, helpers
):
    billing = await start_billing(mail_invoice_sends_per_window=2)
    api = billing_api(billing, helpers)
    setup = await helpers.setup(billing, await auth.bearer())
    receiving, _ = await join(api, setup, auth)
    silent, _ = await join(api, setup, auth)
    leaving, _ = await join(api, setup, auth)
    # The recipient's address is also a member's (other case): it is addressed once.
    status, _ = await api(
        "PUT",
        f"/api/v1/recipients/{setup.recipient_id}",
        setup.headers,
        {"email": receiving.email.upper()},
    )
    assert status == 200
    status, contact = await api(
        "POST",
        f"/api/v1/recipients/{setup.recipient_id}/contacts",
        setup.headers,
        {"email": f"portal-{setup.company_id}@client.example", "name": "Jane Client"},
    )
    assert status == 201, contact
    members = [
        {"member_id": receiving.id, "view_invoice": True, "receive_invoice": True},
        {"member_id": silent.id, "view_invoice": True, "receive_invoice": False},
        {"member_id": leaving.id, "view_invoice": True, "receive_invoice": True},
    ]
    status, created = await api(
        "POST", "/api/v1/invoices", setup.headers, invoice_body(setup, members=members)
    )
    assert status == 201, created
    invoice_id = created["data"]["id"]
    # A member who left the company receives nothing any more.
    status, _ = await api(
        "DELETE",
        f"/api/v1/companies/{setup.company_id}/members/{leaving.id}",
        setup.headers,
    )
    assert status == 204

    status, sent = await api(
        "POST",
        f"/api/v1/invoices/{invoice_id}/send",
        setup.headers,
        {"template": "invoice-issued", "custom_message": "Please review."},
    )
    assert (status, sent) == (
        200,
        {"success": True, "message": "Invoice email queued successfully."},
    )
    rows = await outbox(billing, invoice_id)
    assert [row["to_email"] for row in rows] == [receiving.email.upper(), contact["data"]["email"]]
    assert len({row["send_id"] for row in rows}) == 1

    # The invoice's quota counts sends, not e-mails: two e-mails used one of its two sends.
    status, sent = await api("POST", f"/api/v1/invoices/{invoice_id}/send-email", setup.headers, {})
    assert status == 200
    assert sent["message"] == (
        f"Invoice sent to {receiving.email.upper()}, {contact['data']['email']}"
    )
    status, _ = await api("POST", f"/api/v1/invoices/{invoice_id}/send", setup.headers, {})
    assert status == 429
    assert len(await outbox(billing, invoice_id)) == 4


async def test_a_member_alone_is_enough_and_nobody_is_a_422_naming_why(
    api, make_setup, billing, auth
):
    setup = await make_setup(email=None)
    member, _ = await join(api, setup, auth)
    _, created = await api("POST", "/api/v1/invoices", setup.headers, invoice_body(setup))
    invoice_id = created["data"]["id"]
    status, body = await api("POST", f"/api/v1/invoices/{invoice_id}/send", setup.headers, {})
    assert status == 422
    assert "no e-mail address" in body["errors"]["recipient"][0]
    assert "no invoice member" in body["message"] and "no client-portal contacts" in body["message"]
    assert await outbox(billing, invoice_id) == []

    status, _ = await api(
        "POST",
        f"/api/v1/invoices/{invoice_id}/members",
        setup.headers,
        {"members": [{"member_id": member.id, "view_invoice": True, "receive_invoice": True}]},
    )
    assert status == 200
    status, _ = await api("POST", f"/api/v1/invoices/{invoice_id}/send", setup.headers, {})
    assert status == 200
    assert [row["to_email"] for row in await outbox(billing, invoice_id)] == [member.email]


async def test_the_mailer_delivers_each_addressee_its_own_message(
    api, make_setup, billing, auth, tmp_path
):
    setup = await make_setup()
    member, _ = await join(api, setup, auth)
    members = [{"member_id": member.id, "view_invoice": True, "receive_invoice": True}]
    _, created = await api(
        "POST", "/api/v1/invoices", setup.headers, invoice_body(setup, members=members)
    )
    invoice_id = created["data"]["id"]
    assert (await api("POST", f"/api/v1/invoices/{invoice_id}/send", setup.headers, {}))[0] == 200
    await billing.app[POOL].execute(
        "UPDATE email_outbox SET status = 'sent' WHERE status = 'pending' AND invoice_id IS DISTINCT FROM $1",
        invoice_id,
    )
    settings = billing.app[SETTINGS].model_copy(update={"smtp_host": "", "mail_dir": str(tmp_path)})
    now = datetime.now(UTC)
    mailer = Mailer(
        billing.app[POOL], billing.app[DOCUMENTS], settings, lambda: now, billing.app[EVENTS]
    )
    assert await mailer.run_once() == 2
    messages = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(tmp_path.glob("*.eml"))
    ]
    assert [message["To"] for message in messages] == ["billing@client.example", member.email]
    assert len({message["Message-ID"] for message in messages}) == 2


# --- importing: every documented initial status -----------------------------------------


async def history_events(api, setup, invoice_id):
    _, shown = await api("GET", f"/api/v1/invoices/{invoice_id}", setup.headers)
    return [(h["event"], h["from_status"], h["to_status"]) for h in shown["data"]["history"]]


@pytest.mark.parametrize(
    ("kind", "status", "stamp"),
    [
        ("invoice", "approved", "approved_at"),
        ("invoice", "sent", "sent_at"),
        ("invoice", "cancelled", "cancelled_at"),
        ("quote", "sent", "sent_at"),
        ("quote", "declined", None),
    ],
)
async def test_a_new_record_may_be_imported_in_a_documented_status(
    api, make_setup, billing, kind, status, stamp
):
    setup = await make_setup()
    code, created = await api(
        "POST", "/api/v1/invoices", setup.headers, invoice_body(setup, type=kind, status=status)
    )
    assert code == 201, created
    record = created["data"]
    assert (record["type"], record["status"]) == (kind, status)
    if stamp:
        assert record[stamp] is not None
    events = await history_events(api, setup, record["id"])
    assert events == [("created", None, "draft"), ("imported", "draft", status)]
    assert await outbox(billing, record["id"]) == []  # imported: nobody is e-mailed


async def test_imported_as_paid_records_a_payment_of_the_total(api, make_setup):
    setup = await make_setup()
    status, created = await api(
        "POST",
        "/api/v1/invoices",
        setup.headers,
        invoice_body(setup, status="paid", paid_at="2025-06-15"),
    )
    assert status == 201, created
    record = created["data"]
    assert (record["status"], record["total"], record["amount_paid"], record["balance_due"]) == (
        "paid",
        "7200.00",
        "7200.00",
        "0.00",
    )
    assert record["paid_at"].startswith("2025-06-15")
    assert [(p["amount"], p["paid_date"]) for p in record["payments"]] == [
        ("7200.00", "2025-06-15")
    ]
    events = await history_events(api, setup, record["id"])
    assert events[-1] == ("imported", "draft", "paid")
    # Without paid_at, the payment is dated the issue date.
    _, dated = await api(
        "POST", "/api/v1/invoices", setup.headers, invoice_body(setup, status="paid")
    )
    assert dated["data"]["payments"][0]["paid_date"] == "2025-06-01"


IMPOSSIBLE_IMPORTS = [
    ({"type": "quote", "status": "paid"}, "status"),
    ({"type": "invoice", "status": "declined"}, "status"),
    ({"type": "recurring", "recurring": "monthly", "status": "sent"}, "status"),
    ({"status": "due"}, "status"),
    ({"status": "sent", "paid_at": "2025-06-15"}, "paid_at"),
    ({"status": "paid", "paid_at": "yesterday"}, "paid_at"),
    (
        {"status": "paid", "items": [{"label": "x", "quantity": 1, "price": "cheap"}]},
        "items.0.price",
    ),
]


async def test_an_impossible_import_is_422_and_writes_nothing(api, make_setup, billing):
    setup = await make_setup()
    status, created = await api(
        "POST", "/api/v1/invoices", setup.headers, invoice_body(setup, status="paid")
    )
    assert status == 201, created
    pool = billing.app[POOL]
    written = (
        "SELECT (SELECT count(*) FROM invoices WHERE company_id = $1) "
        "+ (SELECT count(*) FROM payments WHERE company_id = $1)"
    )
    before = await pool.fetchval(written, setup.company_id)
    for fields, field in IMPOSSIBLE_IMPORTS:
        status, body = await api(
            "POST", "/api/v1/invoices", setup.headers, invoice_body(setup, **fields)
        )
        assert status == 422 and field in body["errors"], (fields, body)
        assert await pool.fetchval(written, setup.company_id) == before, fields


async def test_a_member_may_not_import_as_paid_or_cancelled(api, make_setup, billing, auth):
    setup = await make_setup()
    _, member = await join(api, setup, auth)
    for status, doing in [("paid", "recording payments"), ("cancelled", "cancelling")]:
        code, body = await api(
            "POST", "/api/v1/invoices", member, invoice_body(setup, status=status)
        )
        assert code == 403, body
        assert "Your role (member)" in body["message"] and doing in body["message"]
    for status in ("approved", "sent"):
        code, _ = await api("POST", "/api/v1/invoices", member, invoice_body(setup, status=status))
        assert code == 201
    assert await billing.app[POOL].fetchval(
        "SELECT array_agg(status ORDER BY id) FROM invoices WHERE company_id = $1",
        setup.company_id,
    ) == ["approved", "sent"]
    # The token's abilities count too: importing as paid needs invoices:pay.
    abilities = ["invoices:create", "invoices:update", "invoices:send"]
    _, admin = await join(api, setup, auth, role="admin", abilities=abilities)
    code, body = await api("POST", "/api/v1/invoices", admin, invoice_body(setup, status="paid"))
    assert code == 403 and "invoices:pay" in body["message"], body
