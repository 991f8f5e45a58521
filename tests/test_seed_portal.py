"""Issue 9 through the gateway, as clients written from the seeds send it: the envelope
(InvoiceFlow's error shape, InvoisX's authentication page), InvoisX's buyers, and INNOVATECH's
client portal in its own words."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.stack

UNAUTHENTICATED = {  # InvoisX's "Error Response Example", plus InvoiceFlow's `error`
    "success": False,
    "error": "unauthorized",
    "message": "Unauthenticated.",
    "error_code": "UNAUTHORIZED",
}


def _error(status: int, body: dict, expected_status: int, error: str) -> None:
    assert status == expected_status, body
    assert (body["success"], body["error"], body["error_code"]) == (False, error, error.upper())


# --- envelopes -------------------------------------------------------------------------


async def test_every_answer_says_whether_it_succeeded(stack, http, send, login):
    email, password = stack.create_user()
    # InvoiceFlow's "Error Handling" example: a required field left out.
    status, body = await send("POST", "/api/v1/tokens", None, {"password": password})
    _error(status, body, 422, "validation_error")
    assert body["errors"]["email"] == ["The email field is required."]
    assert body["message"] == "The email field is required."  # docs/api.md: the first error
    assert (await send("GET", "/api/v1/invoices")) == (401, UNAUTHENTICATED)
    # The unwrapped answers: token issuance, /login, /me, acknowledgements.
    credentials = {"email": email, "password": password, "device_name": "erp-integration"}
    status, issued = await send("POST", "/api/v1/tokens", None, credentials)
    assert (status, issued["success"], issued["abilities"]) == (201, True, ["*"])
    token = issued["token"]
    status, logged_in = await send("POST", "/api/login", None, credentials)
    assert (status, logged_in["success"], logged_in["user"]["email"]) == (200, True, email)
    status, me = await send("GET", "/api/v1/me", token)
    assert (status, me["success"], me["email"]) == (200, True, email)
    status, company = await send("POST", "/api/v1/companies", token, {"name": "Envelope Ltd"})
    assert (status, company["success"]) == (201, True)
    status, customer = await send(
        "POST", "/api/v1/customers", token, {"company_name": "Acme Corp", "email": "ap@acme.test"}
    )
    assert (status, customer["success"], customer["message"]) == (201, True, "Customer created")
    status, listed = await send("GET", "/api/v1/customers", token)
    assert (status, listed["success"], listed["meta"]["total"]) == (200, True, 1)
    assert set(listed) >= {"data", "links", "meta"}
    status, invoice = await send(
        "POST",
        "/api/v1/invoices",
        token,
        {
            "customer_id": customer["data"]["id"],
            "currency": "USD",
            "items": [{"description": "Web Development", "quantity": 40, "unit_price": 150}],
        },
    )
    assert (status, invoice["success"], invoice["message"]) == (201, True, "Invoice created")
    invoice_path = f"/api/v1/invoices/{invoice['data']['id']}"
    assert await send("POST", f"{invoice_path}/send-email", token) == (
        200,
        {"success": True, "message": "Invoice sent to ap@acme.test"},
    )
    status, again = await send("POST", f"{invoice_path}/send-email", token)
    _error(status, again, 429, "rate_limited")  # the gateway's own answer
    status, missing = await send("GET", "/api/v1/invoices/999999999", token)
    _error(status, missing, 404, "not_found")
    # The customer still has an unpaid invoice.
    status, conflict = await send("DELETE", f"/api/v1/customers/{customer['data']['id']}", token)
    _error(status, conflict, 409, "conflict")
    status, product = await send("POST", "/api/v1/products", token, {"name": "Widget"})
    assert (status, product["success"]) == (201, True)
    assert await send("DELETE", f"/api/v1/products/{product['data']['id']}", token) == (204, None)
    status, spec = await send("GET", "/api/v1/openapi.json")
    assert status == 200 and "success" not in spec  # a pure OpenAPI document
    assert {"success", "error"} <= set(spec["components"]["schemas"]["Error"]["required"])
    # A stored idempotent answer is replayed with its envelope.
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "portal-envelope-1"}
    answers = []
    for _ in range(2):
        async with http.post(
            stack.base_url + "/api/v1/products", json={"name": "Gadget"}, headers=headers
        ) as response:
            answers.append((response.status, response.headers, await response.json()))
    (first_status, _, first), (replay_status, replay_headers, replayed) = answers
    assert (first_status, replay_status, replay_headers["Idempotent-Replayed"]) == (
        201,
        201,
        "true",
    )
    assert replayed == first and replayed["success"] is True
    assert await send("POST", "/api/v1/logout", token) == (
        200,
        {"success": True, "message": "Logged out successfully"},
    )
    assert (await send("GET", "/api/v1/me", token)) == (401, UNAUTHENTICATED)


# --- InvoisX: buyers ---------------------------------------------------------------------


async def test_invoisx_samples_list_and_manage_buyers(stack, send, issue_token):
    email, password = stack.create_user()

    async def token(name: str, abilities: list[str]) -> str:
        # "Create New Token": a name, an expiration (a year) and the permissions chosen.
        issued = await issue_token(email, password, name, abilities, expires_in_days=365)
        assert issued["abilities"] == abilities and issued["expires_at"]
        return str(issued["token"])

    crud = await token("Production Integration", ["*:create", "*:read", "*:update", "*:delete"])
    reader = await token("Testing", ["*:read"])
    await send("POST", "/api/v1/companies", crud, {"name": "InvoisX Seller Sdn Bhd"})
    # Every code sample: GET /api/v1/buyers with Authorization, Accept and Content-Type.
    status, buyers = await send("GET", "/api/v1/buyers", crud)
    assert (status, buyers["success"], buyers["data"]) == (200, True, [])
    status, created = await send(
        "POST",
        "/api/v1/buyers",
        crud,
        {"company_name": "Acme Corp", "contact_name": "John Doe", "email": "john@acme.test"},
    )
    assert (status, created["success"], created["data"]["company_name"]) == (201, True, "Acme Corp")
    buyer = f"/api/v1/buyers/{created['data']['id']}"
    status, listed = await send("GET", "/api/v1/buyers", reader)
    assert [b["company_name"] for b in listed["data"]] == ["Acme Corp"]
    status, one = await send("GET", buyer, reader)
    assert (status, one["data"]["email"]) == (200, "john@acme.test")
    # Read permission only: the writes are FORBIDDEN.
    for method, path in (("POST", "/api/v1/buyers"), ("PUT", buyer), ("DELETE", buyer)):
        status, refused = await send(method, path, reader, {"company_name": "Hijack"})
        _error(status, refused, 403, "forbidden")
    status, updated = await send("PUT", buyer, crud, {"company_name": "Acme Corporation"})
    assert (status, updated["data"]["company_name"]) == (200, "Acme Corporation")
    status, patched = await send("PATCH", buyer, crud, {"phone": "+60 3-1234 5678"})
    assert (status, patched["data"]["phone"]) == (200, "+60 3-1234 5678")
    assert await send("DELETE", buyer, crud) == (204, None)
    assert (await send("GET", buyer, crud))[0] == 404
    # Another seller's token sees none of it.
    stranger = await issue_token(*stack.create_user(), "other")
    status, theirs = await send("GET", "/api/v1/buyers", stranger["token"])
    assert (status, theirs["data"]) == (200, [])
    # "Revoking a token is immediate": the next call is the document's 401.
    token_id = reader.partition("|")[0]
    assert await send("DELETE", f"/api/v1/tokens/{token_id}", reader) == (204, None)
    assert await send("GET", "/api/v1/buyers", reader) == (401, UNAUTHENTICATED)
    # TOKEN_EXPIRED, the other authentication error of the page.
    expiring = await token("Expiring", ["*:read"])
    stack.sql(
        "auth",
        "UPDATE personal_access_tokens SET expires_at = now() - interval '1 minute' "
        f"WHERE id = {int(expiring.partition('|')[0])}",
    )
    status, expired = await send("GET", "/api/v1/buyers", expiring)
    _error(status, expired, 401, "token_expired")


# --- INNOVATECH: the client portal --------------------------------------------------------

INVOICE_EXAMPLE = {
    "id": 1042,
    "invoicenum": "INV-1042",
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
QUOTE_EXAMPLE = {
    "id": 87,
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
CONSULTING = [
    {"description": "Consulting", "quantity": 1, "unit_price": 1500, "tax_percentage": 15}
]


def _shaped_like(answer: dict, example: dict) -> None:
    """Every field the example shows, of the same JSON type (null allowed for a date)."""
    for name, value in example.items():
        assert name in answer, name
        assert isinstance(answer[name], type(value)) or answer[name] is None, (name, answer)


async def test_innovatech_portal_reads_in_its_own_words(
    stack, send, innovatech_portal, issue_token
):
    portal = await innovatech_portal()
    member, customer_id = portal.member, portal.customer_id

    async def client_token(device_name: str, abilities: list[str]) -> str:
        issued = await issue_token(portal.email, portal.password, device_name, abilities)
        assert issued["abilities"] == abilities  # "confirms which abilities were granted"
        return str(issued["token"])

    async def document(path: str, body: dict, *actions: tuple[str, dict]) -> int:
        status, created = await send("POST", path, member, body | {"customer_id": customer_id})
        assert status == 201, created
        for action, payload in actions:
            path_of = f"/api/v1/invoices/{created['data']['id']}/{action}"
            status, answer = await send("POST", path_of, member, payload)
            assert status in (200, 201), (action, answer)
        return int(created["data"]["id"])

    dated = {"issue_date": "2026-03-01", "due_date": "2026-03-15", "items": CONSULTING}
    paid = await document(
        "/api/v1/invoices",
        dated,
        ("approve", {}),
        ("pay", {"amount": "1725.00", "paid_date": "2026-03-10", "payment_method": "payfast"}),
    )
    unpaid = await document("/api/v1/invoices", dated, ("approve", {}))  # overdue by now
    cancelled = await document("/api/v1/invoices", dated, ("approve", {}), ("cancel", {}))
    draft = await document("/api/v1/invoices", dated)
    quote_body = {
        "issue_date": "2026-02-15",
        "valid_until": "2026-03-15",
        "subject": "Website Redesign Proposal",
        "notes": "Includes responsive design and SEO audit.",
        "items": [
            {"description": "Redesign", "quantity": 1, "unit_price": 25000, "tax_percentage": 15}
        ],
    }
    sent = ("send", {"template": "quote"})
    delivered = await document("/api/v1/quotes", quote_body, sent)
    accepted = await document("/api/v1/quotes", quote_body, sent, ("approve", {}))
    lost = await document("/api/v1/quotes", quote_body | {"notes": None}, sent, ("decline", {}))

    # "Creating a Token": its example body.
    client = await client_token("erp-integration", ["invoices:read", "invoices:download"])
    # "List Invoices": invoices only (never a draft, never a quote), in the portal's words.
    status, listed = await send("GET", "/api/v1/invoices", client)
    assert status == 200
    assert {row["id"]: row["status"] for row in listed["data"]} == {
        paid: "Paid",
        unpaid: "Unpaid",
        cancelled: "Cancelled",
    }
    assert set(listed["links"]) >= {"first", "last", "prev", "next"}
    assert {k: listed["meta"][k] for k in ("current_page", "last_page", "per_page", "total")} == {
        "current_page": 1,
        "last_page": 1,
        "per_page": 15,
        "total": 3,
    }
    row = next(row for row in listed["data"] if row["id"] == paid)
    _shaped_like(row, INVOICE_EXAMPLE)
    expected = INVOICE_EXAMPLE | {"id": paid, "invoicenum": "INV-0001"}
    assert {name: row[name] for name in INVOICE_EXAMPLE} == expected
    # "Retrieve a Single Invoice".
    status, one = await send("GET", f"/api/v1/invoices/{paid}", client)
    assert status == 200 and {name: one["data"][name] for name in INVOICE_EXAMPLE} == expected
    for name in ("description", "history", "members", "available_actions", "created_by"):
        assert name not in one["data"] and name not in row, name
    status, other = await send("GET", f"/api/v1/invoices/{unpaid}", client)
    assert (other["data"]["status"], other["data"]["datepaid"], other["data"]["paymentmethod"]) == (
        "Unpaid",
        None,
        "",
    )
    for hidden in (draft, delivered):
        assert (await send("GET", f"/api/v1/invoices/{hidden}", client))[0] == 404
    # "Download an Invoice PDF".
    status, download = await send("GET", f"/api/v1/invoices/{paid}/download", client)
    assert status == 200 and download["data"]["invoice_id"] == paid
    assert download["data"]["download_url"].startswith(stack.base_url)
    # "The invoice list and detail endpoints accept any valid authenticated token".
    narrow = await client_token("profile-only", ["profile:read"])
    status, listed = await send("GET", "/api/v1/invoices", narrow)
    assert status == 200 and len(listed["data"]) == 3
    assert (await send("GET", f"/api/v1/invoices/{paid}", narrow))[0] == 200
    _error(*await send("GET", "/api/v1/quotes", narrow), 403, "forbidden")
    _error(*await send("GET", f"/api/v1/invoices/{paid}/download", narrow), 403, "forbidden")
    # "Retrieve Profile", every field a string.
    status, profile = await send("GET", "/api/v1/profile", narrow)
    assert status == 200
    assert (profile["data"]["firstname"], profile["data"]["lastname"]) == ("Jane", "Mokoena")
    for name in ("companyname", "address1", "city", "state", "postcode", "country", "phonenumber"):
        assert profile["data"][name] == "", name

    # "List Quotes" and "Retrieve a Single Quote".
    quotes = await client_token("quotes", ["quotes:read"])
    status, listed = await send("GET", "/api/v1/quotes", quotes)
    assert status == 200
    assert {row["id"]: row["stage"] for row in listed["data"]} == {
        delivered: "Delivered",
        accepted: "Accepted",
        lost: "Lost",
    }
    row = next(row for row in listed["data"] if row["id"] == delivered)
    _shaped_like(row, QUOTE_EXAMPLE)
    assert {name: row[name] for name in QUOTE_EXAMPLE} == QUOTE_EXAMPLE | {"id": delivered}
    status, one = await send("GET", f"/api/v1/quotes/{delivered}", quotes)
    assert {name: one["data"][name] for name in QUOTE_EXAMPLE} == QUOTE_EXAMPLE | {"id": delivered}
    status, one = await send("GET", f"/api/v1/quotes/{lost}", quotes)
    assert (one["data"]["stage"], one["data"]["customernotes"]) == ("Lost", "")

    # Members keep the lower-case statuses on the same routes.
    status, seen = await send("GET", "/api/v1/invoices?type=invoice", member)
    assert {row["id"]: row["status"] for row in seen["data"]} == {
        paid: "paid",
        unpaid: "approved",
        cancelled: "cancelled",
        draft: "draft",
    }
    status, seen = await send("GET", f"/api/v1/quotes/{accepted}", member)
    assert seen["data"]["status"] == "approved"
    # ... and still need invoices:read.
    member_narrow = await issue_token(
        portal.member_email, portal.member_password, "x", ["profile:read"]
    )
    _error(*await send("GET", "/api/v1/invoices", member_narrow["token"]), 403, "forbidden")
