"""The ageing, tax and revenue reports through billing-service's HTTP API, every figure
cross-checked against sums computed here from the records the API itself made and shows:
invoices in two currencies at several VAT rates, partial payments, a refund, credit notes (one
beyond the balance of a paid invoice), credit applied, a draft and a cancelled invoice; as of
today and of dates in the past. Then who may read them, bad input, and the CSV answers."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from billing_service.platform.aging import AGE_BUCKET_NAMES, age_bucket, days_past_due

from ..helpers.invoices import assert_422_on

V1 = "/api/v1"
REPORTS = f"{V1}/reports"
CENT = Decimal("0.01")
ZERO = Decimal(0)
# Two VAT rates and a zero-rated line: net 100.00 + 50.00 + 20.00, VAT 20.00 + 3.50.
MIXED_LINES = [
    {"label": "Design", "quantity": 2, "price": 50, "tax_percentage": 20},
    {"label": "Books", "quantity": 1, "price": 50, "tax_percentage": 7},
    {"label": "Export", "quantity": 1, "price": 20, "tax_percentage": 0, "vat_category": "Z"},
]
STANDARD_LINES = [{"label": "Support", "quantity": 3, "price": "33.33", "tax_percentage": 20}]


@dataclass
class Ledger:
    """The records as the API shows them: issued invoices, credit notes, money moved."""

    invoices: dict[int, dict[str, Any]] = field(default_factory=dict)
    credit_notes: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[tuple[int, Decimal, date]] = field(default_factory=list)
    moved_to_credit: list[tuple[int, Decimal, date]] = field(default_factory=list)


class Company:
    """A company's owner driving the API, keeping a ledger of what it did."""

    def __init__(self, api: Any, setup: Any) -> None:
        self.api, self.setup, self.ledger = api, setup, Ledger()

    async def call(self, method: str, path: str, body: Any = None, ok: int = 200) -> Any:
        status, answer = await self.api(method, path, self.setup.headers, body)
        assert status == ok, answer
        return answer["data"]

    async def invoice(self, issued: str, due: str, lines: list[Any], **fields: Any) -> int:
        body = {
            "invoice_recipient_id": self.setup.recipient_id,
            "invoicer_id": self.setup.invoicer_id,
            "currency": "EUR",
            "scheduled_date": issued,
            "due_date": due,
            "items": lines,
        } | fields
        created = await self.call("POST", f"{V1}/invoices", body, ok=201)
        return int(created["id"])

    async def issue(self, issued: str, due: str, lines: list[Any], **fields: Any) -> int:
        invoice_id = await self.invoice(issued, due, lines, **fields)
        await self.call("POST", f"{V1}/invoices/{invoice_id}/approve")
        return invoice_id

    async def pay(self, invoice_id: int, amount: str, day: str) -> None:
        body = {"amount": amount, "paid_date": day}
        await self.call("POST", f"{V1}/invoices/{invoice_id}/pay", body)

    async def refund(self, invoice_id: int, amount: str, day: str) -> None:
        body = {"amount": amount, "reason": "Damaged", "refunded_at": day}
        await self.call("POST", f"{V1}/invoices/{invoice_id}/refunds", body)
        self.ledger.refunds.append((invoice_id, Decimal(amount), date.fromisoformat(day)))

    async def credit(self, invoice_id: int, day: str, items: list[Any] | None = None) -> None:
        """A credit note issued on `day`; what it moved to the customer's credit is the fall
        of the invoice's amount_paid."""
        kept_before = Decimal((await self.read(invoice_id))["amount_paid"])
        body: dict[str, Any] = {"reason": "Returned", "scheduled_date": day}
        if items is not None:
            body["items"] = items
        note = await self.call("POST", f"{V1}/invoices/{invoice_id}/credit-notes", body, ok=201)
        await self.call("POST", f"{V1}/invoices/{note['id']}/approve")
        moved = kept_before - Decimal((await self.read(invoice_id))["amount_paid"])
        if moved:
            self.ledger.moved_to_credit.append((invoice_id, moved, date.fromisoformat(day)))

    async def read(self, record_id: int) -> dict[str, Any]:
        return dict(await self.call("GET", f"{V1}/invoices/{record_id}"))

    async def load_ledger(self, invoice_ids: list[int]) -> Ledger:
        """Every record re-read from the API (the figures the reports must agree with)."""
        for invoice_id in invoice_ids:
            self.ledger.invoices[invoice_id] = await self.read(invoice_id)
        listed = await self.call("GET", f"{V1}/invoices?type=credit_note&per_page=100")
        self.ledger.credit_notes = [await self.read(note["id"]) for note in listed]
        return self.ledger

    async def report(self, name: str, **query: str) -> dict[str, Any]:
        text = "&".join(f"{key}={value}" for key, value in query.items())
        return dict(await self.call("GET", f"{REPORTS}/{name}?{text}"))


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _counted(invoice: dict[str, Any]) -> bool:
    return invoice["status"] not in ("draft", "cancelled")


def expected_owed(ledger: Ledger, as_of: date) -> dict[int, Decimal]:
    """What each issued invoice owed at the end of `as_of`, from its records."""
    owed: dict[int, Decimal] = {}
    for invoice_id, invoice in ledger.invoices.items():
        if not _counted(invoice) or _day(invoice["scheduled_date"]) > as_of:
            continue
        balance = Decimal(invoice["total"])
        balance -= sum(
            (Decimal(p["amount"]) for p in invoice["payments"] if _day(p["paid_date"]) <= as_of),
            ZERO,
        )
        balance += sum((a for i, a, d in ledger.refunds if i == invoice_id and d <= as_of), ZERO)
        balance -= sum(
            (
                Decimal(n["total"])
                for n in ledger.credit_notes
                if n["credited_invoice_id"] == invoice_id and _day(n["scheduled_date"]) <= as_of
            ),
            ZERO,
        )
        balance += sum(
            (a for i, a, d in ledger.moved_to_credit if i == invoice_id and d <= as_of), ZERO
        )
        if balance:
            owed[invoice_id] = balance
    return owed


def expected_aging(ledger: Ledger, as_of: date) -> dict[tuple[str, int | None], dict[str, Any]]:
    rows: dict[tuple[str, int | None], dict[str, Any]] = {}
    for invoice_id, balance in expected_owed(ledger, as_of).items():
        invoice = ledger.invoices[invoice_id]
        key = (invoice["currency"], invoice["invoice_recipient_id"])
        row = rows.setdefault(key, dict.fromkeys((*AGE_BUCKET_NAMES, "total"), ZERO))
        due = _day(invoice["due_date"]) if invoice["due_date"] else None
        row[age_bucket(days_past_due(due, as_of))] += balance
        row["total"] += balance
        row["invoices"] = row.get("invoices", 0) + 1
    return rows


def reported_aging(report: dict[str, Any]) -> dict[tuple[str, int | None], dict[str, Any]]:
    rows = {}
    for block in report["currencies"]:
        for customer in block["customers"]:
            figures = {name: Decimal(customer[name]) for name in (*AGE_BUCKET_NAMES, "total")}
            rows[(block["currency"], customer["customer_id"])] = figures | {
                "invoices": customer["invoices"]
            }
        totals = block["totals"]
        for name in (*AGE_BUCKET_NAMES, "total"):
            assert Decimal(totals[name]) == sum(
                (Decimal(c[name]) for c in block["customers"]), ZERO
            )
    return rows


def _group(line: dict[str, Any], currency: str) -> tuple[str, str, Decimal]:
    return currency, line["vat_category"], Decimal(line["tax_percentage"])


def expected_tax_accrual(ledger: Ledger, start: date, end: date) -> dict[Any, list[Decimal]]:
    """(currency, category, rate) -> [added net, added VAT, deducted net, deducted VAT]."""
    groups: dict[Any, list[Decimal]] = defaultdict(lambda: [ZERO] * 4)
    documents = [(i, 0) for i in ledger.invoices.values() if _counted(i)]
    documents += [(n, 2) for n in ledger.credit_notes if n["status"] != "draft"]
    for document, column in documents:
        if not start <= _day(document["scheduled_date"]) <= end:
            continue
        for line in document["items"]:
            if line["include"]:
                figures = groups[_group(line, document["currency"])]
                figures[column] += Decimal(line["net"])
                figures[column + 1] += Decimal(line["tax"])
    return groups


def expected_tax_cash(ledger: Ledger, start: date, end: date) -> dict[Any, list[Decimal]]:
    """Each movement of money an invoice keeps shares out over its lines by net / total and
    tax / total; rounded once per group at the end."""
    movements: list[tuple[int, Decimal]] = []
    for invoice_id, invoice in ledger.invoices.items():
        for payment in invoice["payments"]:
            if start <= _day(payment["paid_date"]) <= end:
                movements.append((invoice_id, Decimal(payment["amount"])))
    for invoice_id, amount, day in ledger.refunds + ledger.moved_to_credit:
        if start <= day <= end:
            movements.append((invoice_id, -amount))
    groups: dict[Any, list[Decimal]] = defaultdict(lambda: [ZERO] * 4)
    for invoice_id, amount in movements:
        invoice = ledger.invoices[invoice_id]
        total = Decimal(invoice["total"])
        column = 0 if amount > 0 else 2
        for line in invoice["items"]:
            figures = groups[_group(line, invoice["currency"])]
            figures[column] += abs(amount) * Decimal(line["net"]) / total
            figures[column + 1] += abs(amount) * Decimal(line["tax"]) / total
    return {
        key: [value.quantize(CENT, ROUND_HALF_UP) for value in figures]
        for key, figures in groups.items()
    }


def reported_tax(report: dict[str, Any]) -> dict[Any, list[Decimal]]:
    groups = {}
    for group in report["groups"]:
        figures = [
            Decimal(group[name])
            for name in ("added_taxable", "added_vat", "deducted_taxable", "deducted_vat")
        ]
        assert Decimal(group["taxable_amount"]) == figures[0] - figures[2]
        assert Decimal(group["vat"]) == figures[1] - figures[3]
        groups[(group["currency"], group["vat_category"], Decimal(group["rate"]))] = figures
    for total in report["totals"]:
        mine = [g for g in report["groups"] if g["currency"] == total["currency"]]
        assert Decimal(total["vat"]) == sum((Decimal(g["vat"]) for g in mine), ZERO)
    return groups


def _nonzero(groups: dict[Any, list[Decimal]]) -> dict[Any, list[Decimal]]:
    return {key: figures for key, figures in groups.items() if any(figures)}


@pytest.fixture
async def books(api: Any, make_setup: Any) -> tuple[Company, Ledger]:
    """A year of a company's receivables, made through the API."""
    company = Company(api, await make_setup(currency="EUR"))
    other = await company.call(
        "POST",
        f"{V1}/recipients",
        {
            "company_entity": "Second Customer",
            "organisation_id": company.setup.organisation_id,
            "currency": "USD",
        },
        ok=201,
    )
    # Partly paid in February, the rest in May: 143.50 at 20 %, 7 % and 0 %.
    mixed = await company.issue("2025-01-10", "2025-02-09", MIXED_LINES)
    await company.pay(mixed, "50.00", "2025-02-15")
    await company.pay(mixed, "93.50", "2025-05-01")
    # Credited in part (the design line) in April, then partly paid.
    part_credited = await company.issue("2025-03-01", "2025-03-31", MIXED_LINES)
    await company.credit(
        part_credited,
        "2025-04-10",
        [{"label": "Design", "quantity": 1, "price": 50, "tax_percentage": 20}],
    )
    await company.pay(part_credited, "40.00", "2025-04-20")
    # USD, the second customer: paid, then part of it refunded.
    usd = await company.issue(
        "2025-02-01", "2025-03-03", STANDARD_LINES, currency="USD", invoice_recipient_id=other["id"]
    )
    await company.pay(usd, "119.99", "2025-02-20")
    await company.refund(usd, "19.99", "2025-06-01")
    # Unpaid, overdue for long; and one whose credit is applied from the next one's note.
    unpaid = await company.issue("2025-06-01", "2025-06-15", STANDARD_LINES)
    paid_then_credited = await company.issue("2025-03-05", "2025-03-20", STANDARD_LINES)
    await company.pay(paid_then_credited, "119.99", "2025-03-06")
    await company.credit(paid_then_credited, "2025-03-25")  # beyond the balance: to credit
    await company.call("POST", f"{V1}/invoices/{unpaid}/apply-credit", {"amount": "20.00"})
    # Never receivables: a draft and a cancelled invoice.
    draft = await company.invoice("2025-02-02", "2025-03-02", MIXED_LINES)
    cancelled = await company.issue("2025-02-03", "2025-03-03", MIXED_LINES)
    await company.call("POST", f"{V1}/invoices/{cancelled}/cancel")
    ids = [mixed, part_credited, usd, unpaid, paid_then_credited, draft, cancelled]
    return company, await company.load_ledger(ids)


AS_OF_DATES = ["2025-01-31", "2025-02-16", "2025-03-24", "2025-04-15", "2025-06-30"]


async def test_the_ageing_report_is_what_the_records_owed_on_each_date(
    books: tuple[Company, Ledger],
) -> None:
    company, ledger = books
    for as_of in AS_OF_DATES:
        report = await company.report("aging", as_of=as_of)
        assert report["as_of"] == as_of
        assert reported_aging(report) == expected_aging(ledger, _day(as_of)), as_of
    # Today: each customer's total is the sum of the balances due the invoices state now.
    today = await company.report("aging")
    now = defaultdict(lambda: ZERO)
    for invoice in ledger.invoices.values():
        if _counted(invoice):
            now[(invoice["currency"], invoice["invoice_recipient_id"])] += Decimal(
                invoice["balance_due"]
            )
    assert {k: v["total"] for k, v in reported_aging(today).items()} == {
        k: v for k, v in now.items() if v
    }
    assert reported_aging(today) == expected_aging(ledger, _day(today["as_of"]))
    # A currency alone.
    only_usd = await company.report("aging", as_of="2025-02-16", currency="usd")
    assert [block["currency"] for block in only_usd["currencies"]] == ["USD"]


async def test_the_ageing_buckets_follow_the_days_past_due(books: tuple[Company, Ledger]) -> None:
    company, _ = books
    # The mixed invoice (due 02-09) is 30 days past due on 03-11, 31 on 03-12, 80 on 04-30;
    # the one credited in part (due 03-31) 91 on 06-30.
    for as_of, bucket in (("2025-02-09", "current"), ("2025-03-11", "days_1_30"),
                          ("2025-03-12", "days_31_60"), ("2025-04-30", "days_61_90"),
                          ("2025-06-30", "over_90")):  # fmt: skip
        report = await company.report("aging", as_of=as_of, currency="EUR")
        customer = next(
            c
            for c in report["currencies"][0]["customers"]
            if c["customer_id"] == company.setup.recipient_id
        )
        assert Decimal(customer[bucket]) > 0, (as_of, customer)


TAX_RANGES = [
    ("2025-01-01", "2025-03-31"),
    ("2025-04-01", "2025-06-30"),
    ("2025-01-01", "2025-12-31"),
]
EXPECTED_TAX = {"accrual": expected_tax_accrual, "cash": expected_tax_cash}


@pytest.mark.parametrize("basis", ["accrual", "cash"])
@pytest.mark.parametrize(("start", "end"), TAX_RANGES)
async def test_the_tax_report_is_the_documents_issued_or_the_money_moved(
    books: tuple[Company, Ledger], start: str, end: str, basis: str
) -> None:
    """Accrual: invoices less credit notes issued in the range; cash: money received less
    money given back in the range, as a share of each invoice's VAT groups."""
    company, ledger = books
    report = await company.report("tax", **{"from": start, "to": end, "basis": basis})
    assert report["basis"] == basis
    expected = EXPECTED_TAX[basis](ledger, _day(start), _day(end))
    assert reported_tax(report) == _nonzero(expected)


async def test_the_revenue_report_adds_up_to_the_ageing_at_each_period_end(
    books: tuple[Company, Ledger],
) -> None:
    company, ledger = books
    report = await company.report("revenue", **{"from": "2025-01-15", "to": "2025-06-30"})
    periods = report["periods"]
    assert [p["period"] for p in periods if p["currency"] == "EUR"] == [
        "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06",
    ]  # fmt: skip
    assert periods[0]["period_start"] == "2025-01-15"
    for period in periods:
        start, end = _day(period["period_start"]), _day(period["period_end"])
        currency = period["currency"]
        mine = [i for i in ledger.invoices.values() if _counted(i) and i["currency"] == currency]
        invoiced = sum(
            (Decimal(i["total"]) for i in mine if start <= _day(i["scheduled_date"]) <= end), ZERO
        )
        credited = sum(
            (
                Decimal(n["total"])
                for n in ledger.credit_notes
                if n["currency"] == currency and start <= _day(n["scheduled_date"]) <= end
            ),
            ZERO,
        )
        owed_before = sum(
            (
                v
                for k, v in expected_owed(ledger, start - timedelta(days=1)).items()
                if ledger.invoices[k]["currency"] == currency
            ),
            ZERO,
        )
        owed_after = sum(
            (
                v
                for k, v in expected_owed(ledger, end).items()
                if ledger.invoices[k]["currency"] == currency
            ),
            ZERO,
        )
        assert Decimal(period["invoiced"]) == invoiced, period
        assert Decimal(period["credited"]) == credited, period
        assert Decimal(period["outstanding"]) == owed_after, period
        assert Decimal(period["collected"]) == owed_before + invoiced - credited - owed_after
    quarters = await company.report(
        "revenue", **{"from": "2025-01-01", "to": "2025-12-31", "group": "quarter"}
    )
    assert {p["period"] for p in quarters["periods"]} == {
        "2025-Q1",
        "2025-Q2",
        "2025-Q3",
        "2025-Q4",
    }
    for currency in ("EUR", "USD"):
        months = [p for p in periods if p["currency"] == currency]
        first_half = [
            p for p in quarters["periods"] if p["currency"] == currency and p["period"] <= "2025-Q2"
        ]
        assert first_half[-1]["outstanding"] == months[-1]["outstanding"]


async def test_reports_come_as_csv(api: Any, billing: Any, books: tuple[Company, Ledger]) -> None:
    company, _ = books
    headers = company.setup.headers
    aging = await company.report("aging", as_of="2025-04-15")
    tax = await company.report("tax", **{"from": "2025-01-01", "to": "2025-06-30"})
    revenue = await company.report("revenue", **{"from": "2025-01-01", "to": "2025-06-30"})
    by_accept = await billing.get(
        f"{REPORTS}/aging?as_of=2025-04-15", headers=headers | {"Accept": "text/csv"}
    )
    assert by_accept.status == 200
    assert by_accept.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await by_accept.text())))
    customers = [r for r in rows if r["customer_name"] != "Total"]
    assert len(customers) == sum(len(b["customers"]) for b in aging["currencies"])
    for block in aging["currencies"]:
        for customer in block["customers"]:
            row = next(
                r
                for r in customers
                if r["currency"] == block["currency"]
                and r["customer_id"] == str(customer["customer_id"])
            )
            assert {name: row[name] for name in (*AGE_BUCKET_NAMES, "total")} == {
                name: customer[name] for name in (*AGE_BUCKET_NAMES, "total")
            }
        total = next(
            r for r in rows if r["customer_name"] == "Total" and r["currency"] == block["currency"]
        )
        assert total["total"] == block["totals"]["total"]
    by_query = await billing.get(
        f"{REPORTS}/tax?from=2025-01-01&to=2025-06-30&format=csv", headers=headers
    )
    assert by_query.status == 200 and by_query.content_type == "text/csv"
    tax_rows = list(csv.DictReader(io.StringIO(await by_query.text())))
    assert [(r["currency"], r["vat_category"], r["rate"], r["vat"]) for r in tax_rows] == [
        (g["currency"], g["vat_category"], g["rate"], g["vat"]) for g in tax["groups"]
    ]
    revenue_csv = await billing.get(
        f"{REPORTS}/revenue?from=2025-01-01&to=2025-06-30&format=csv", headers=headers
    )
    revenue_rows = list(csv.DictReader(io.StringIO(await revenue_csv.text())))
    assert [
        (r["period"], r["currency"], r["collected"], r["outstanding"]) for r in revenue_rows
    ] == [
        (p["period"], p["currency"], p["collected"], p["outstanding"]) for p in revenue["periods"]
    ]
    # ?format=json wins over the Accept header.
    status, answer = await api(
        "GET", f"{REPORTS}/aging?format=json", headers | {"Accept": "text/csv"}
    )
    assert status == 200 and "currencies" in answer["data"]


async def test_a_customer_name_that_is_a_formula_is_neutralised_in_csv(
    api: Any, billing: Any, make_setup: Any
) -> None:
    company = Company(api, await make_setup(currency="EUR"))
    await company.call(
        "PATCH",
        f"{V1}/recipients/{company.setup.recipient_id}",
        {"company_entity": "=HYPERLINK(1)"},
    )
    await company.issue("2025-01-10", "2025-02-09", STANDARD_LINES)
    answer = await billing.get(f"{REPORTS}/aging?format=csv", headers=company.setup.headers)
    rows = list(csv.DictReader(io.StringIO(await answer.text())))
    assert rows[0]["customer_name"] == "'=HYPERLINK(1)"


# --- who may read them --------------------------------------------------------------------


async def test_reports_are_for_owners_and_admins_of_the_company(
    api: Any, auth: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    paths = [
        f"{REPORTS}/aging",
        f"{REPORTS}/tax?from=2025-01-01&to=2025-03-31",
        f"{REPORTS}/revenue?from=2025-01-01&to=2025-03-31",
    ]
    for role, allowed in (("admin", True), ("member", False)):
        user = await auth.user()
        status, added = await api(
            "POST",
            f"{V1}/companies/{setup.company_id}/members",
            setup.headers,
            {"email": user.email, "role": role},
        )
        assert status == 201, added
        headers = {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
        for path in paths:
            separator = "&" if "?" in path else "?"
            status, answer = await api(
                "GET", f"{path}{separator}company_id={setup.company_id}", headers
            )
            assert (status == 200) is allowed, (role, path, answer)
            if not allowed:
                assert status == 403 and "member" in answer["message"], answer


async def test_reports_need_the_reports_read_ability(api: Any, auth: Any, make_setup: Any) -> None:
    owner = await auth.user()
    headers = {"Authorization": f"Bearer {await auth.identity_jwt(owner.token)}"}
    setup = await make_setup()
    narrow = await auth.user(["invoices:read", "companies:read"])
    narrow_headers = {"Authorization": f"Bearer {await auth.identity_jwt(narrow.token)}"}
    status, answer = await api("GET", f"{REPORTS}/aging", narrow_headers)
    assert status == 403 and "reports:read" in answer["message"], answer
    reader = await auth.user(["reports:read"])
    reader_headers = {"Authorization": f"Bearer {await auth.identity_jwt(reader.token)}"}
    status, answer = await api("GET", f"{REPORTS}/aging?company_id={setup.company_id}", headers)
    assert (status, answer["error_code"]) == (403, "COMPANY_ACCESS_DENIED"), answer
    status, answer = await api("GET", f"{REPORTS}/aging", reader_headers)
    assert_422_on(status, answer, "company_id")  # a user in no company has none to report on


async def test_a_report_shows_only_its_own_company(api: Any, make_setup: Any) -> None:
    first = Company(api, await make_setup(currency="EUR"))
    second = Company(api, await make_setup(currency="EUR"))
    await first.issue("2025-01-10", "2025-02-09", STANDARD_LINES)
    report = await second.report("aging", company_id=str(second.setup.company_id))
    assert report["company_id"] == second.setup.company_id
    assert report["currencies"] == []
    mine = await first.report("aging")
    assert mine["currencies"][0]["totals"]["total"] == "119.99"
    status, answer = await api(
        "GET", f"{REPORTS}/tax?from=2025-01-01&to=2025-01-31&company_id={first.setup.company_id}",
        second.setup.headers,
    )  # fmt: skip
    assert (status, answer["error_code"]) == (403, "COMPANY_ACCESS_DENIED")
    status, answer = await api("GET", f"{REPORTS}/aging?company_id=999999999", first.setup.headers)
    assert_422_on(status, answer, "company_id")


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("aging?as_of=2025-13-01", "as_of"),
        ("aging?as_of=yesterday", "as_of"),
        ("aging?currency=EURO", "currency"),
        ("aging?currency=XYZ", "currency"),
        # Not an ISO 4217 code: every report takes the shared Currency field.
        ("aging?currency=ZZZ", "currency"),
        ("tax?from=2025-01-01&to=2025-03-31&currency=ZZZ", "currency"),
        ("revenue?from=2025-01-01&to=2025-03-31&currency=ZZZ", "currency"),
        ("aging?format=xml", "format"),
        ("tax?to=2025-03-31", "from"),
        ("tax?from=2025-01-01", "to"),
        ("tax?from=2025-04-01&to=2025-03-31", "to"),
        ("tax?from=2024-01-01&to=2025-03-31", "to"),
        ("tax?from=2025-01-01&to=2025-03-31&basis=invoice", "basis"),
        ("revenue?from=2025-01-01&to=2025-03-31&group=week", "group"),
        ("revenue?from=2010-01-01&to=2025-03-31", "to"),
        ("revenue?from=2025-01-01&to=2025-03-31&company_id=0", "company_id"),
    ],
)
async def test_bad_report_queries_are_422_naming_the_field(
    api: Any, make_setup: Any, query: str, field: str
) -> None:
    setup = await make_setup()
    status, answer = await api("GET", f"{REPORTS}/{query}", setup.headers)
    assert_422_on(status, answer, field)


async def test_an_ageing_as_of_a_day_after_today_is_refused(api: Any, make_setup: Any) -> None:
    setup = await make_setup()
    tomorrow = date.today() + timedelta(days=2)
    status, answer = await api("GET", f"{REPORTS}/aging?as_of={tomorrow}", setup.headers)
    assert_422_on(status, answer, "as_of")
