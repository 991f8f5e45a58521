"""InvoiceMee's document (seeds/invoicemee-api-reference.txt), replayed through the gateway as a
client written from it sends it: its paths under /api, its bodies, the fields its answers show.
tests/test_seeds.py replays the quickstart, the lifecycle and recurring templates; these
replay the rest, with issue 9's rules: a send reaches everyone the invoice names, a new
invoice may be created in any status the document lists, and "wrong company/org" is a 403."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.stack

# The document's own POST /api/invoices body (its ids are the client's records).
ITEMS = [
    {
        "label": "Web Development",
        "unit": "hour",
        "quantity": 40,
        "price": 150.00,
        "tax_percentage": 20,
        "discount_percentage": False,
        "price_includes_tax": False,
        "price_includes_discount": False,
        "include": True,
    }
]


async def login(send, email, password):
    status, body = await send(
        "POST", "/api/login", None, {"email": email, "password": password, "device_name": "my-app"}
    )
    assert status == 200, body
    return body["token"], body["user"]


async def workspace(stack, send):
    """A user's company, invoicer with payment details, organisation and recipient, made with
    the document's examples; (token, user, ids by the document's field names)."""
    email, password = stack.create_user()
    token, user = await login(send, email, password)
    status, company = await send("POST", "/api/companies", token, {"name": "Acme Ltd"})
    assert status == 201, company
    company_id = company["data"]["id"]
    status, invoicer = await send(
        "POST",
        "/api/invoicers",
        token,
        {
            "company_id": company_id,
            "company_entity": "Acme Ltd",
            "currency": "USD",
            "tax_rate": 20,
            "default": True,
        },
    )
    assert status == 201, invoicer
    assert (invoicer["data"]["company_entity"], invoicer["data"]["default"]) == ("Acme Ltd", True)
    invoicer_id = invoicer["data"]["id"]
    _, detail = await send(
        "POST",
        f"/api/invoicers/{invoicer_id}/payment-details",
        token,
        {"label": "Main account", "iban": "GB33BUKB20201555555555"},
    )
    _, organisation = await send(
        "POST", "/api/organisations", token, {"name": "Clients", "company_id": company_id}
    )
    status, recipient = await send(
        "POST",
        "/api/recipients",
        token,
        {
            "company_entity": "Client Corp",
            "organisation_id": organisation["data"]["id"],
            "currency": "EUR",
            "default_hour_rate": 120,
            "tax_rate": 0,
        },
    )
    assert status == 201, recipient
    return (
        token,
        user,
        {
            "company_id": company_id,
            "invoicer_id": invoicer_id,
            "invoicer_payment_detail_id": detail["data"]["id"],
            "organisation_id": organisation["data"]["id"],
            "invoice_recipient_id": recipient["data"]["id"],
        },
    )


def invoice_body(ids, **fields):
    return {
        "label": "INV-2025-001",
        "invoicer_id": ids["invoicer_id"],
        "invoice_recipient_id": ids["invoice_recipient_id"],
        "invoicer_payment_detail_id": ids["invoicer_payment_detail_id"],
        "currency": "USD",
        "type": "invoice",
        "scheduled_date": "2025-06-01",
        "due_date": "2025-06-30",
        "items": ITEMS,
    } | fields


async def colleague(stack, send, token, company_id):
    """Another user made a member of the company: (their token, their user)."""
    email, password = stack.create_user()
    status, added = await send(
        "POST", f"/api/companies/{company_id}/members", token, {"email": email, "role": "member"}
    )
    assert status == 201, added
    return await login(send, email, password)


def outbox(stack, invoice_id):
    return stack.sql(
        "billing",
        f"SELECT string_agg(to_email, ',' ORDER BY id) FROM email_outbox "
        f"WHERE invoice_id = {int(invoice_id)}",
    ).split(",")


async def test_invoicemee_send_reaches_members_and_client_contacts(stack, http, send):
    token, user, ids = await workspace(stack, send)
    status, me = await send("GET", "/api/me", token)
    assert (status, me["id"], me["name"]) == (200, user["id"], "Stack User")
    # The document's recipient examples carry no e-mail address: its clients reach people
    # through the invoice's members and the recipient's portal contacts.
    recipient_id = ids["invoice_recipient_id"]
    status, shown = await send("GET", f"/api/recipients/{recipient_id}", token)
    assert (shown["data"]["company_entity"], shown["data"]["default_hour_rate"]) == (
        "Client Corp",
        "120.00",
    )
    status, updated = await send(
        "PUT",
        f"/api/recipients/{recipient_id}",
        token,
        {"company_address": "456 Park Ave, London EC1A 1BB", "default_hour_rate": 140},
    )
    assert (updated["data"]["company_address"], updated["data"]["default_hour_rate"]) == (
        "456 Park Ave, London EC1A 1BB",
        "140.00",
    )
    _, member = await colleague(stack, send, token, ids["company_id"])
    status, contact = await send(
        "POST",
        f"/api/recipients/{recipient_id}/contacts",
        token,
        {"email": f"ap-{recipient_id}@clientcorp.example", "name": "Accounts Payable"},
    )
    assert status == 201, contact
    members = [
        {
            "member_id": member["id"],
            "view_invoice": True,
            "receive_invoice": True,
            "action_invoice": False,
        },
        {"member_id": user["id"], "view_invoice": True, "receive_invoice": False},
    ]
    status, created = await send("POST", "/api/invoices", token, invoice_body(ids, members=members))
    assert status == 201, created
    invoice = created["data"]
    assert (invoice["status"], invoice["total"]) == ("draft", "7200.00")
    invoice_id = invoice["id"]

    status, sent = await send(
        "POST",
        f"/api/invoices/{invoice_id}/send",
        token,
        {
            "template": "invoice-issued",
            "custom_message": "Please review at your earliest convenience.",
        },
    )
    assert (status, sent["message"]) == (200, "Invoice email queued successfully."), sent
    assert outbox(stack, invoice_id) == [member["email"], contact["data"]["email"]]
    # "Invoice send email: 1 req/min per invoice": one send, whatever its addressees.
    status, limited = await send("POST", f"/api/invoices/{invoice_id}/send", token, {})
    assert status == 429, limited
    _, shown = await send("GET", f"/api/invoices/{invoice_id}", token)
    assert shown["data"]["status"] == "sent"

    # Nobody to send to: a 422 that says why, and nothing queued.
    _, other = await send(
        "POST",
        "/api/recipients",
        token,
        {"company_entity": "Walk-in Ltd", "organisation_id": ids["organisation_id"]},
    )
    body = invoice_body(ids, label="INV-2025-002", invoice_recipient_id=other["data"]["id"])
    _, lonely = await send("POST", "/api/invoices", token, body)
    status, refused = await send(
        "POST", f"/api/invoices/{lonely['data']['id']}/send", token, {"template": "invoice-issued"}
    )
    assert status == 422 and "Nobody to send to" in refused["message"], refused
    assert refused["errors"]["recipient"] == [refused["message"]]
    assert outbox(stack, lonely["data"]["id"]) == [""]

    status, bye = await send("POST", "/api/logout", token)
    assert (status, bye["message"]) == (200, "Logged out successfully")
    assert (await send("GET", "/api/me", token))[0] == 401


async def test_invoicemee_creates_invoices_in_every_listed_status(stack, http, send):
    token, _, ids = await workspace(stack, send)
    imported = {}
    for number, status in enumerate(("approved", "sent", "paid", "cancelled"), start=1):
        body = invoice_body(ids, label=f"IMP-{number}", status=status)
        if status == "paid":
            body["paid_at"] = "2025-06-15"
        code, created = await send("POST", "/api/invoices", token, body)
        assert code == 201, created
        assert (created["data"]["status"], created["data"]["total"]) == (status, "7200.00")
        imported[status] = created["data"]["id"]
    code, quote = await send(
        "POST", "/api/invoices", token, invoice_body(ids, type="quote", status="declined")
    )
    assert (code, quote["data"]["type"], quote["data"]["status"]) == (201, "quote", "declined")

    _, paid = await send("GET", f"/api/invoices/{imported['paid']}", token)
    paid = paid["data"]
    assert (paid["status"], paid["balance_due"]) == ("paid", "0.00")
    assert [(p["amount"], p["paid_date"]) for p in paid["payments"]] == [("7200.00", "2025-06-15")]
    assert paid["history"][-1]["event"] == "imported"
    assert (paid["history"][-1]["from_status"], paid["history"][-1]["to_status"]) == (
        "draft",
        "paid",
    )
    for invoice_id in imported.values():  # imported: nobody was e-mailed
        assert outbox(stack, invoice_id) == [""]
    _, listed = await send("GET", "/api/invoices?status=paid&type=invoice", token)
    assert [row["id"] for row in listed["data"]] == [imported["paid"]]
    # The lifecycle goes on from the imported status: the sent one is paid as the document does.
    code, settled = await send(
        "POST",
        f"/api/invoices/{imported['sent']}/pay",
        token,
        {"amount": 7200.00, "reference": "TXN-987654", "payment_method": "bank_transfer"},
    )
    assert (code, settled["data"]["status"]) == (200, "paid")

    # What the lifecycle cannot reach is a 422 on status, and writes nothing.
    code, refused = await send(
        "POST", "/api/invoices", token, invoice_body(ids, type="quote", status="paid")
    )
    assert code == 422 and "status" in refused["errors"], refused
    # A member may create drafts and approved or sent ones, but neither record a payment nor
    # cancel (the role matrix): 403 naming the role.
    member_token, _ = await colleague(stack, send, token, ids["company_id"])
    for status, doing in (("paid", "recording payments"), ("cancelled", "cancelling")):
        code, denied = await send(
            "POST", "/api/invoices", member_token, invoice_body(ids, label="M-1", status=status)
        )
        assert (
            code == 403
            and f"Your role (member) in this company does not allow {doing}" in (denied["message"])
        ), denied
    code, approved = await send(
        "POST", "/api/invoices", member_token, invoice_body(ids, label="M-1", status="approved")
    )
    assert (code, approved["data"]["status"]) == (201, "approved")
    total = stack.sql(
        "billing", f"SELECT count(*) FROM invoices WHERE company_id = {int(ids['company_id'])}"
    )
    assert total == "6"  # four imports, the declined quote, the member's approved one


async def test_invoicemee_wrong_company_or_org_is_403(stack, http, send):
    token, _, mine = await workspace(stack, send)
    their_token, _, theirs = await workspace(stack, send)
    _, their_invoice = await send("POST", "/api/invoices", their_token, invoice_body(theirs))
    nowhere = 2**62

    async def named(method, path, body, field):
        """Naming the other tenant's record is 403; an id that exists nowhere, 422."""
        code, denied = await send(method, path.format(theirs[field]), token, body(theirs[field]))
        assert (code, denied["error_code"]) == (403, "COMPANY_ACCESS_DENIED"), (path, denied)
        assert field in denied["errors"], denied
        code, invalid = await send(method, path.format(nowhere), token, body(nowhere))
        assert code == 422 and field in invalid["errors"], (path, invalid)

    for field in ("invoicer_id", "invoice_recipient_id", "invoicer_payment_detail_id"):
        await named(
            "POST",
            "/api/invoices",
            lambda value, field=field: invoice_body(mine, label=f"X-{field}") | {field: value},
            field,
        )
    await named(
        "POST",
        "/api/recipients",
        lambda value: {
            "company_entity": "Client Corp",
            "organisation_id": value,
            "currency": "EUR",
            "default_hour_rate": 120,
            "tax_rate": 0,
        },
        "organisation_id",
    )
    await named(
        "POST",
        "/api/invoicers",
        lambda value: {"company_id": value, "company_entity": "Acme Ltd", "currency": "USD"},
        "company_id",
    )
    await named(
        "POST",
        "/api/organisations",
        lambda value: {"name": "Clients", "company_id": value},
        "company_id",
    )
    await named("GET", "/api/invoices?company_id={}", lambda value: None, "company_id")
    await named(
        "GET", "/api/invoices?invoice_recipient_id={}", lambda value: None, "invoice_recipient_id"
    )
    # A path id outside the caller's scope stays 404.
    for method, path in (
        ("GET", f"/api/invoices/{their_invoice['data']['id']}"),
        ("PUT", f"/api/recipients/{theirs['invoice_recipient_id']}"),
        ("GET", f"/api/invoicers/{theirs['invoicer_id']}"),
        ("DELETE", f"/api/organisations/{theirs['organisation_id']}"),
    ):
        code, missing = await send(method, path, token, {"company_address": "x"})
        assert (code, missing["error_code"]) == (404, "NOT_FOUND"), (path, missing)
