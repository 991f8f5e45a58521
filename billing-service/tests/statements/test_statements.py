"""Customer statements through billing-service's HTTP API: every figure equals the records
(built through the API: invoices, a payment, a payment across invoices, a refund, a credit
note beyond the balance and credit applied), the PDF as the customer reads it, the send
under the e-mail caps, abilities, tenants, roles and bad input."""

from __future__ import annotations

import asyncio
import email
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import policy
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from billing_service.documents.keys import DOCUMENTS
from billing_service.events.keys import EVENTS
from billing_service.mail.services.mailer import Mailer
from billing_service.platform.keys import POOL, SETTINGS
from shared.clock import CLOCK

from ..helpers.invoices import approved_invoice

V1 = "/api/v1"
# Net 100.00 at 19 %: 119.00 each.
LINES = [{"label": "Consulting", "quantity": 1, "price": 100, "tax_percentage": 19}]


@dataclass
class Account:
    """A customer's records, dated from `base` (100 days ago) to today."""

    setup: Any
    base: date
    today: date
    invoices: dict[str, int]
    payment_across: int
    credit_note: int


def _day(value: date) -> str:
    return value.isoformat()


async def _ok(api: Any, method: str, path: str, headers: Any, body: Any = None) -> Any:
    status, answer = await api(method, path, headers, body)
    assert status in (200, 201), answer
    return answer["data"]


async def _issued(api: Any, setup: Any, issued: date, due: date, currency: str = "EUR") -> int:
    body = {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "currency": currency,
        "scheduled_date": _day(issued),
        "due_date": _day(due),
        "items": LINES,
    }
    return int((await approved_invoice(api, setup, body))["id"])


async def build_account(api: Any, setup: Any) -> Account:
    """A: 119 paid 50, then 69 of a payment across invoices, 10 refunded (10 owed, 71 days
    late); B: 119, 60 of that payment, then credited in full (60 moves to the credit); C: 119,
    50 settled from credit (69 owed, 56 days late); D: 119, not yet due. The payment across
    invoices leaves 21 on account: credit 21 + 60 - 50 = 31. A USD invoice stays out."""
    today = datetime.now(UTC).date()
    base = today - timedelta(days=100)
    h = setup.headers
    invoices = {
        "A": await _issued(api, setup, base, base + timedelta(days=29)),
        "B": await _issued(api, setup, base + timedelta(days=9), base + timedelta(days=39)),
        "C": await _issued(api, setup, base + timedelta(days=30), base + timedelta(days=44)),
        "D": await _issued(api, setup, base + timedelta(days=60), today + timedelta(days=10)),
        "USD": await _issued(
            api, setup, base + timedelta(days=5), base + timedelta(days=20), "USD"
        ),
    }
    paid = {
        "amount": "50.00",
        "paid_date": _day(base + timedelta(days=4)),
        "payment_method": "bank",
    }
    await _ok(api, "POST", f"{V1}/invoices/{invoices['A']}/pay", h, paid)
    across = {
        "customer_id": setup.recipient_id,
        "amount": "150.00",
        "currency": "EUR",
        "paid_date": _day(base + timedelta(days=19)),
        "reference": "TRX-150",
        "allocations": [
            {"invoice_id": invoices["A"], "amount": "69.00"},
            {"invoice_id": invoices["B"], "amount": "60.00"},
        ],
    }
    payment = await _ok(api, "POST", f"{V1}/payments", h, across)
    refund = {
        "amount": "10.00",
        "reason": "Overcharged",
        "refunded_at": _day(base + timedelta(days=24)),
    }
    await _ok(api, "POST", f"{V1}/invoices/{invoices['A']}/refunds", h, refund)
    note_body = {"reason": "Cancelled order", "scheduled_date": _day(base + timedelta(days=40))}
    note = await _ok(api, "POST", f"{V1}/invoices/{invoices['B']}/credit-notes", h, note_body)
    await _ok(api, "POST", f"{V1}/invoices/{note['id']}/approve", h)
    await _ok(api, "POST", f"{V1}/invoices/{invoices['C']}/apply-credit", h, {"amount": "50.00"})
    return Account(setup, base, today, invoices, payment["id"], note["id"])


async def statement(api: Any, setup: Any, query: str = "?currency=EUR") -> dict[str, Any]:
    customer = setup.recipient_id
    return await _ok(api, "GET", f"{V1}/customers/{customer}/statement{query}", setup.headers)


@pytest.fixture
async def account(api: Any, make_setup: Any) -> Account:
    return await build_account(api, await make_setup(currency="EUR"))


@pytest.fixture(autouse=True)
async def no_statement_left_pending(billing: Any) -> Any:
    """Other tests' mailers share the outbox: what these tests queue does not outlive them."""
    yield
    await billing.app[POOL].execute(
        "UPDATE email_outbox SET status = 'failed' "
        "WHERE template = 'customer-statement' AND status = 'pending'"
    )


async def test_every_figure_equals_the_records(api, account):
    setup, base, today = account.setup, account.base, account.today
    start = base + timedelta(days=10)
    shown = await statement(api, setup, f"?currency=EUR&from={_day(start)}")
    assert (shown["from"], shown["to"], shown["currency"]) == (_day(start), _day(today), "EUR")
    # Before `from`: A 119 billed, 50 paid, B 119 billed.
    assert shown["opening_balance"] == "188.00"
    lines = [
        (line["type"], line["debit"], line["credit"], line["balance"]) for line in shown["lines"]
    ]
    assert lines == [
        ("payment", "0.00", "150.00", "38.00"),
        ("refund", "10.00", "0.00", "48.00"),
        ("invoice", "119.00", "0.00", "167.00"),
        ("credit_note", "0.00", "119.00", "48.00"),
        ("invoice", "119.00", "0.00", "167.00"),
        ("credit_applied", "0.00", "0.00", "167.00"),
    ]
    assert [line["date"] for line in shown["lines"]] == [
        _day(base + timedelta(days=days)) for days in (19, 24, 30, 40, 60, 100)
    ]
    across = shown["lines"][0]
    assert (across["id"], across["reference"], across["invoice_id"]) == (
        account.payment_across,
        "TRX-150",
        None,
    )
    assert [(a["invoice_id"], a["amount"]) for a in across["allocations"]] == [
        (account.invoices["A"], "69.00"),
        (account.invoices["B"], "60.00"),
    ]
    assert "21.00 on account" in across["description"]
    assert shown["lines"][3]["id"] == account.credit_note
    assert "60.00 to your credit" in shown["lines"][3]["description"]
    assert shown["lines"][5]["amount"] == "50.00"
    assert (shown["total_debits"], shown["total_credits"]) == ("248.00", "269.00")
    assert shown["closing_balance"] == "167.00"
    # The cross-check: closing = what the invoices themselves say is owed - the credit.
    owed = Decimal(0)
    for name in ("A", "B", "C", "D"):
        invoice = await _ok(api, "GET", f"{V1}/invoices/{account.invoices[name]}", setup.headers)
        owed += Decimal(invoice["balance_due"])
    balance = await _ok(api, "GET", f"{V1}/customers/{setup.recipient_id}/balance", setup.headers)
    (eur,) = [b for b in balance["balances"] if b["currency"] == "EUR"]
    assert (owed, eur["credit_available"]) == (Decimal("198.00"), "31.00")
    assert Decimal(shown["closing_balance"]) == owed - Decimal(eur["credit_available"])
    assert (shown["owed"], shown["credit_available"]) == ("198.00", "31.00")
    assert shown["aging"] == {
        "current": "119.00",
        "days_1_30": "0.00",
        "days_31_60": "69.00",
        "days_61_90": "10.00",
        "over_90": "0.00",
    }
    opened = {
        (i["invoice_number"], i["owed"], i["days_past_due"], i["bucket"])
        for i in shown["open_invoices"]
    }
    labels = {}
    for name in ("A", "C", "D"):
        labels[name] = (
            await _ok(api, "GET", f"{V1}/invoices/{account.invoices[name]}", setup.headers)
        )["label"]
    assert opened == {
        (labels["A"], "10.00", 71, "days_61_90"),
        (labels["C"], "69.00", 56, "days_31_60"),
        (labels["D"], "119.00", 0, "current"),
    }


async def test_a_past_day_states_the_account_as_it_stood_then(api, account):
    setup, base = account.setup, account.base
    end = base + timedelta(days=20)
    shown = await statement(api, setup, f"?currency=EUR&from={_day(base)}&to={_day(end)}")
    assert shown["opening_balance"] == "0.00"
    assert [line["balance"] for line in shown["lines"]] == ["119.00", "69.00", "188.00", "38.00"]
    # Then: A settled, B owed 59 (not yet due), 21 on account.
    assert (shown["closing_balance"], shown["owed"], shown["credit_available"]) == (
        "38.00",
        "59.00",
        "21.00",
    )
    assert shown["aging"]["current"] == "59.00"
    # The next period opens where this one closed.
    following = await statement(api, setup, f"?currency=EUR&from={_day(end + timedelta(days=1))}")
    assert following["opening_balance"] == shown["closing_balance"]


async def test_another_currency_has_its_own_account(api, account):
    setup = account.setup
    shown = await statement(api, setup, f"?currency=usd&from={_day(account.base)}")
    assert shown["currency"] == "USD"
    assert [(line["type"], line["invoice_id"]) for line in shown["lines"]] == [
        ("invoice", account.invoices["USD"])
    ]
    assert shown["closing_balance"] == shown["aging"]["days_61_90"] == "119.00"  # 80 days late
    never = await statement(api, setup, "?currency=JPY")
    assert (never["lines"], never["closing_balance"], never["opening_balance"]) == ([], "0", "0")


async def test_parties_are_named_as_on_an_invoice(api, make_setup):
    setup = await make_setup(currency="EUR")
    seller = {"company_address": "Hauptstraße 1\n10115 Berlin", "vat_id": "DE123456789"}
    await _ok(api, "PATCH", f"{V1}/invoicers/{setup.invoicer_id}", setup.headers, seller)
    buyer = {
        "address_line1": "Fő utca 1",
        "city": "Budapest",
        "postcode": "1011",
        "country_code": "HU",
        "vat_id": "HU12345678",
    }
    await _ok(api, "PATCH", f"{V1}/recipients/{setup.recipient_id}", setup.headers, buyer)
    shown = await statement(api, setup, "")
    assert shown["issuer"]["name"] == "Acme Ltd"
    assert shown["issuer"]["address"] == "Hauptstraße 1\n10115 Berlin"
    assert shown["issuer"]["vat_id"] == "DE123456789"
    assert shown["customer"]["name"] == "Client Corp"
    assert shown["customer"]["address"] == "Fő utca 1\n1011 Budapest\nHungary"
    assert shown["customer"]["vat_id"] == "HU12345678"
    # Defaults: today, and 90 days before it; the company's currency.
    today = datetime.now(UTC).date()
    assert (shown["from"], shown["to"]) == (_day(today - timedelta(days=90)), _day(today))
    company = await _ok(api, "GET", f"{V1}/companies/{setup.company_id}", setup.headers)
    assert shown["currency"] == company["currency"] and shown["lines"] == []


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 100), (20, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


async def pdf_text(billing: Any, setup: Any, query: str) -> tuple[str, PdfReader]:
    response = await billing.get(
        f"{V1}/customers/{setup.recipient_id}/statement{query}",
        headers=setup.headers | {"Accept": "application/pdf"},
    )
    assert response.status == 200, await response.text()
    assert response.content_type == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(await response.read()))
    return "".join(page.extract_text() for page in reader.pages), reader


async def test_the_pdf_reads_as_the_answer_does(api, billing, account):
    setup, base = account.setup, account.base
    response = await billing.put(
        f"{V1}/invoicers/{setup.invoicer_id}/logo",
        data=_png(),
        headers=setup.headers | {"Content-Type": "image/png"},
    )
    assert response.status == 200
    query = f"?currency=EUR&from={_day(base + timedelta(days=10))}"
    shown = await statement(api, setup, query)
    text, reader = await pdf_text(billing, setup, query)
    assert len(reader.pages[0].images) == 1  # the invoicer's logo, as on its invoices
    for expected in ("Acme Ltd", "Client Corp", "STATEMENT", "CUSTOMER"):
        assert expected in text, expected
    # Opening, each line's reference and running balance, closing, ages, in the answer's order.
    expected = ["Opening balance", "€188.00"]
    for line in shown["lines"]:
        expected += [line["reference"] or "", f"€{line['balance']}"]
    expected += [
        "Closing balance",
        "€167.00",
        "Current",
        "Over 90 days",
        "€119.00",
        "€0.00",
        "€69.00",
        "€10.00",
        "Owed on invoices",
        "€198.00",
        "Credit available",
        "€31.00",
        "Balance due",
        "€167.00",
    ]
    position = 0
    for part in expected:
        found = text.find(part, position)
        assert found >= 0, (part, text[position:])
        position = found + len(part)


@pytest.fixture
def mailer(billing: Any, tmp_path: Any) -> Mailer:
    settings = billing.app[SETTINGS].model_copy(update={"smtp_host": "", "mail_dir": str(tmp_path)})
    return Mailer(
        billing.app[POOL], billing.app[DOCUMENTS], settings, billing.app[CLOCK], billing.app[EVENTS]
    )


async def send(
    billing: Any, setup: Any, body: Any = None, headers: Any = None
) -> tuple[int, Any, Any]:
    response = await billing.post(
        f"{V1}/customers/{setup.recipient_id}/statement/send",
        json=body or {},
        headers=setup.headers | (headers or {}),
    )
    return response.status, response.headers, await response.json()


async def test_the_send_mails_the_pdf_to_each_address_once(api, billing, account, mailer, tmp_path):
    setup = account.setup
    start = _day(account.base + timedelta(days=10))
    status, _, answer = await send(
        billing, setup, {"from": start, "currency": "EUR", "custom_message": "Thanks!"}
    )
    assert status == 202, answer
    sent = answer["data"]
    assert (sent["closing_balance"], sent["addresses"], sent["from"]) == (
        "167.00",
        ["billing@client.example"],
        start,
    )
    pool = billing.app[POOL]
    kept = await pool.fetchrow("SELECT * FROM statement_sends WHERE id = $1", sent["id"])
    assert (kept["recipient_id"], kept["addresses"], kept["closing_balance"]) == (
        setup.recipient_id,
        1,
        Decimal("167.00"),
    )
    # Only this send pending (the outbox is shared), then delivered by the mailer.
    await pool.execute(
        "UPDATE email_outbox SET status = 'sent' WHERE status = 'pending' AND send_id <> $1",
        kept["send_id"],
    )
    assert await mailer.run_once() == 1
    (eml,) = tmp_path.glob("*-customer-statement.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "billing@client.example"
    assert message["Subject"] == "Statement of account from Acme Ltd"
    body = message.get_body(("plain",)).get_content()
    assert "Thanks!" in body and "Balance due: €167.00" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert "Closing balance" in text and "€167.00" in text


async def test_the_send_keeps_the_caps_and_the_idempotency_key(start_billing, auth, helpers):
    # Two sends a window per customer: the company's cap refuses the second send.
    service = await start_billing(mail_company_hourly_cap=1, mail_invoice_sends_per_window=2)
    setup = await helpers.setup(service, await auth.bearer())
    key = {"Idempotency-Key": "statement-1"}
    status, _, first = await send(service, setup, None, key)
    assert status == 202, first
    status, headers, again = await send(service, setup, None, key)
    assert (status, headers.get("Idempotent-Replayed"), again) == (202, "true", first)
    status, headers, refused = await send(service, setup)
    assert (status, refused["error_code"]) == (429, "RATE_LIMITED")
    assert 3500 < int(headers["Retry-After"]) <= 3600
    queued = await service.app[POOL].fetchval(
        "SELECT count(*) FROM email_outbox o JOIN statement_sends s ON s.send_id = o.send_id "
        "WHERE s.recipient_id = $1",
        setup.recipient_id,
    )
    assert queued == 1
    await service.app[POOL].execute(
        "UPDATE email_outbox SET status = 'failed' WHERE template = 'customer-statement'"
    )


async def test_one_send_per_customer_a_window_even_when_sent_at_once(billing, make_setup):
    """Statement sends of one customer are counted under its row lock: of concurrent sends,
    one passes (default: 1 per 60 s, as an invoice's); another customer is not held up."""
    setup = await make_setup()
    answers = await asyncio.gather(*(send(billing, setup) for _ in range(4)))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [202, 429, 429, 429], answers
    for status, headers, answer in answers:
        if status == 429:
            assert answer["error_code"] == "RATE_LIMITED"
            assert "statement" in answer["message"]
            assert 0 < int(headers["Retry-After"]) <= 60
    pool = billing.app[POOL]
    kept = await pool.fetchval(
        "SELECT count(*) FROM statement_sends WHERE recipient_id = $1", setup.recipient_id
    )
    assert kept == 1
    other = await make_setup()
    status, _, answer = await send(billing, other)
    assert status == 202, answer


async def test_nobody_to_send_to_is_a_422_that_queues_nothing(billing, make_setup):
    setup = await make_setup(email=None)
    status, _, answer = await send(billing, setup)
    assert (status, list(answer["errors"])) == (422, ["customer"])
    kept = await billing.app[POOL].fetchval(
        "SELECT count(*) FROM statement_sends WHERE recipient_id = $1", setup.recipient_id
    )
    assert kept == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=2025-03-02&to=2025-03-01", "from"),
        ("?from=2024-01-01&to=2025-01-02", "from"),
        ("?from=2025-02-30", "from"),
        ("?to=yesterday", "to"),
        ("?currency=EURO", "currency"),
        ("?currency=XYZ", "currency"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(api, make_setup, query, field):
    setup = await make_setup()
    status, answer = await api(
        "GET", f"{V1}/customers/{setup.recipient_id}/statement{query}", setup.headers
    )
    assert status == 422, answer
    assert list(answer["errors"]) == [field]


async def test_a_send_in_an_unknown_currency_is_a_422_on_currency(billing, make_setup):
    setup = await make_setup()
    status, _, answer = await send(billing, setup, {"currency": "ZZZ"})
    assert (status, list(answer["errors"])) == (422, ["currency"])


async def test_a_year_is_the_longest_period(api, make_setup):
    setup = await make_setup()
    shown = await statement(api, setup, "?from=2024-01-01&to=2024-12-31")
    assert (shown["from"], shown["to"]) == ("2024-01-01", "2024-12-31")


async def test_abilities_tenants_and_roles(api, auth, helpers, billing):
    owner, admin, member = [await auth.user() for _ in range(3)]

    async def bearer(user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}

    setup = await helpers.setup(billing, await bearer(owner))
    for user, role in ((admin, "admin"), (member, "member")):
        body = {"email": user.email, "role": role}
        await _ok(api, "POST", f"{V1}/companies/{setup.company_id}/members", setup.headers, body)
    read = f"{V1}/customers/{setup.recipient_id}/statement"
    mail = f"{read}/send"
    # Reading is for the company's team; sending for its owners and admins.
    for user in (owner, admin, member):
        status, answer = await api("GET", read, await bearer(user))
        assert status == 200, answer
    status, answer = await api("POST", mail, await bearer(member))
    assert (status, answer["error_code"]) == (403, "FORBIDDEN")
    assert "member" in answer["message"]
    status, answer = await api("POST", mail, await bearer(admin))
    assert status == 202, answer
    # Another company's customer does not exist for this caller.
    stranger = await helpers.setup(billing, await auth.bearer())
    for method, path in (("GET", read), ("POST", mail)):
        status, _ = await api(method, path, stranger.headers)
        assert status == 404
    status, _ = await api("GET", f"{V1}/customers/999999999/statement", setup.headers)
    assert status == 404


async def limited_token(auth: Any, user: Any, abilities: list[str]) -> dict[str, str]:
    """Another token of the same user, with only `abilities`."""
    from auth_service.keys import TOKENS

    issued = await auth.app[TOKENS].issue(
        user_id=user.id, name="limited", abilities=abilities, expires_at=None
    )
    return {"Authorization": f"Bearer {await auth.identity_jwt(issued.plain_text)}"}


@pytest.mark.parametrize(
    ("abilities", "method", "path", "status"),
    [
        (["recipients:read"], "GET", "statement", 200),
        (["invoices:read", "recipients:update"], "GET", "statement", 403),
        (["recipients:read"], "POST", "statement/send", 403),
        (["recipients:send"], "POST", "statement/send", 202),
        (["*:send"], "POST", "statement/send", 202),
        (["invoices:send", "recipients:update"], "POST", "statement/send", 403),
    ],
)
async def test_the_token_needs_its_ability(
    api, auth, helpers, billing, abilities, method, path, status
):
    owner = await auth.user()
    full = {"Authorization": f"Bearer {await auth.identity_jwt(owner.token)}"}
    setup = await helpers.setup(billing, full)
    limited = await limited_token(auth, owner, abilities)
    got, answer = await api(method, f"{V1}/customers/{setup.recipient_id}/{path}", limited)
    assert got == status, answer
    if status == 403:
        assert "ability" in answer["message"]


async def test_portal_contacts_are_mailed_and_cannot_read_statements(
    api, auth, helpers, billing, make_setup
):
    setup = await make_setup()
    invited = {"email": f"portal-{setup.company_id}@client.example", "name": "Jane Client"}
    contact = await _ok(
        api, "POST", f"{V1}/recipients/{setup.recipient_id}/contacts", setup.headers, invited
    )
    client = await helpers.client_token(
        auth, contact["email"], contact["password"], ["recipients:read", "recipients:send"]
    )
    path = f"{V1}/customers/{setup.recipient_id}/statement"
    for method, route in (("GET", path), ("POST", f"{path}/send")):
        status, answer = await api(method, route, client)
        assert (status, answer["message"]) == (403, "Client-portal users cannot do this.")
    status, _, answer = await send(billing, setup)
    assert status == 202, answer
    assert answer["data"]["addresses"] == ["billing@client.example", invited["email"]]
    assert answer["message"] == "Statement queued to 2 addresses"


async def test_without_pdf_service_the_pdf_is_a_503_and_nothing_is_sent(
    billing_without_pdf, auth, helpers
):
    setup = await helpers.setup(billing_without_pdf, await auth.bearer())
    path = f"{V1}/customers/{setup.recipient_id}/statement"
    headers = setup.headers | {"Accept": "application/pdf"}
    response = await billing_without_pdf.get(path, headers=headers)
    assert response.status == 503 and "Retry-After" in response.headers
    status, _, _ = await send(billing_without_pdf, setup)
    assert status == 503
    # The JSON statement needs no pdf-service.
    assert (await billing_without_pdf.get(path, headers=setup.headers)).status == 200
    queued = await billing_without_pdf.app[POOL].fetchval(
        "SELECT count(*) FROM statement_sends WHERE recipient_id = $1", setup.recipient_id
    )
    assert queued == 0


async def test_more_lines_than_a_statement_holds_is_a_422_on_from(api, billing, make_setup):
    setup = await make_setup(currency="EUR")
    today = datetime.now(UTC).date()
    invoice_id = await _issued(api, setup, today - timedelta(days=30), today)
    # 2,001 small payments recorded straight in the table: the bound, not the rules, is tested.
    await billing.app[POOL].execute(
        "INSERT INTO payments (invoice_id, company_id, amount, paid_date, user_id) "
        "SELECT $1, $2, 0.01, $3::date, 1 FROM generate_series(1, 2001)",
        invoice_id,
        setup.company_id,
        today,
    )
    status, answer = await api(
        "GET", f"{V1}/customers/{setup.recipient_id}/statement?currency=EUR", setup.headers
    )
    assert (status, list(answer["errors"])) == (422, ["from"])
    assert "2000 lines" in answer["message"]
