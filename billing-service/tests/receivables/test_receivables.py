"""Accounts receivable through billing-service's HTTP API: credit notes, refunds, customer
credit and payments across invoices, their rules, tenants, abilities and roles, and their
exactness under concurrent requests."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from billing_service.events.types import EVENT_TYPES
from billing_service.invoices.views.mapping import portal_status

from ..helpers.invoices import approved_invoice

V1 = "/api/v1"
# Net 100.00 at 19 %: total 119.00.
LINES = [
    {"label": "Design", "quantity": 2, "price": 30, "tax_percentage": 19},
    {"label": "Hosting", "quantity": 1, "price": 40, "tax_percentage": 19},
]


async def _issued(api: Any, setup: Any, **fields: Any) -> dict[str, Any]:
    """An approved invoice of 119.00 to the setup's recipient."""
    body = {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "currency": "EUR",
        "scheduled_date": "2025-06-01",
        "due_date": "2025-06-30",
        "items": LINES,
    } | fields
    return await approved_invoice(api, setup, body)


async def _invoice(api: Any, setup: Any, invoice_id: int) -> dict[str, Any]:
    status, answer = await api("GET", f"{V1}/invoices/{invoice_id}", setup.headers)
    assert status == 200, answer
    return answer["data"]


async def _credit_note(api: Any, setup: Any, invoice_id: int, **body: Any) -> dict[str, Any]:
    status, answer = await api(
        "POST",
        f"{V1}/invoices/{invoice_id}/credit-notes",
        setup.headers,
        {"reason": "Returned goods"} | body,
    )
    assert status == 201, answer
    return answer["data"]


async def _approve(api: Any, setup: Any, record_id: int) -> tuple[int, Any]:
    return await api("POST", f"{V1}/invoices/{record_id}/approve", setup.headers)


async def _pay(api: Any, setup: Any, invoice_id: int, amount: str) -> dict[str, Any]:
    status, answer = await api(
        "POST", f"{V1}/invoices/{invoice_id}/pay", setup.headers, {"amount": amount}
    )
    assert status == 200, answer
    return answer["data"]


async def _balance(api: Any, setup: Any) -> dict[str, Any]:
    status, answer = await api("GET", f"{V1}/customers/{setup.recipient_id}/balance", setup.headers)
    assert status == 200, answer
    return {row["currency"]: row for row in answer["data"]["balances"]}


def _422(status: int, answer: Any, field: str) -> None:
    assert status == 422, answer
    assert field in answer["errors"], answer


# --- credit notes -----------------------------------------------------------------------


async def test_a_credit_note_of_everything_credits_the_invoice_in_full(
    api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    note = await _credit_note(api, setup, invoice["id"])
    assert note["type"] == "credit_note"
    assert note["status"] == "draft"
    assert note["label"].startswith("CN-")
    assert note["credited_invoice_id"] == invoice["id"]
    assert note["reason"] == "Returned goods"
    assert note["total"] == "119.00"
    assert [item["label"] for item in note["items"]] == ["Design", "Hosting"]
    # A draft credits nothing yet.
    assert (await _invoice(api, setup, invoice["id"]))["balance_due"] == "119.00"

    status, issued = await _approve(api, setup, note["id"])
    assert status == 200, issued
    assert issued["data"]["status"] == "approved"
    # The credit note is no bill: it owes nothing and its customer reads no "Unpaid".
    assert issued["data"]["balance_due"] == "0.00"
    assert "pay" not in issued["data"]["available_actions"]
    assert portal_status("credit_note", issued["data"]["status"]) == "Issued"
    credited = await _invoice(api, setup, invoice["id"])
    assert credited["status"] == "credited"
    assert credited["amount_credited"] == "119.00"
    assert credited["balance_due"] == "0.00"
    assert "pay" not in credited["available_actions"]
    assert "delete" not in credited["available_actions"]
    # Nothing was paid: nothing went to the customer's credit.
    assert (await _balance(api, setup)).get("EUR", {}).get("credit_available", "0.00") == "0.00"


async def test_credit_notes_number_in_their_own_series(api: Any, make_setup: Any) -> None:
    setup = await make_setup()
    first = await _issued(api, setup)
    second = await _issued(api, setup)
    one = await _credit_note(api, setup, first["id"], items=[LINES[1]])
    two = await _credit_note(api, setup, second["id"], items=[LINES[1]])
    assert (one["label"], two["label"]) == ("CN-0001", "CN-0002")
    status, listed = await api("GET", f"{V1}/invoices?type=credit_note", setup.headers)
    assert status == 200, listed
    assert sorted(row["id"] for row in listed["data"]) == sorted([one["id"], two["id"]])
    status, invoices = await api("GET", f"{V1}/invoices?type=invoice", setup.headers)
    assert {row["type"] for row in invoices["data"]} == {"invoice"}


async def test_credit_notes_never_add_up_to_more_than_the_invoice(
    api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    part = await _credit_note(api, setup, invoice["id"], items=[LINES[1]])  # 47.60
    assert part["total"] == "47.60"
    # Too much: the two design lines and the hosting again.
    status, answer = await api(
        "POST",
        f"{V1}/invoices/{invoice['id']}/credit-notes",
        setup.headers,
        {"reason": "x", "items": LINES},
    )
    _422(status, answer, "items")
    # Everything still creditable: the rest, 71.40, as one line of its VAT group.
    rest = await _credit_note(api, setup, invoice["id"])
    assert rest["total"] == "71.40"
    assert Decimal(rest["items"][0]["tax_percentage"]) == 19
    status, answer = await api(
        "POST", f"{V1}/invoices/{invoice['id']}/credit-notes", setup.headers, {"reason": "x"}
    )
    assert status == 409, answer
    for note in (part, rest):
        status, issued = await _approve(api, setup, note["id"])
        assert status == 200, issued
    assert (await _invoice(api, setup, invoice["id"]))["status"] == "credited"


async def test_credit_note_bad_input_names_the_field(api: Any, make_setup: Any) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    path = f"{V1}/invoices/{invoice['id']}/credit-notes"
    status, answer = await api("POST", path, setup.headers, {})
    _422(status, answer, "reason")
    status, answer = await api("POST", path, setup.headers, {"reason": "x", "items": []})
    _422(status, answer, "items")
    bad_line = {"label": "x", "quantity": 1, "price": -5}
    status, answer = await api("POST", path, setup.headers, {"reason": "x", "items": [bad_line]})
    _422(status, answer, "items.0.price")
    # A draft invoice is not issued: nothing to correct.
    status, draft = await api(
        "POST",
        f"{V1}/invoices",
        setup.headers,
        {"invoice_recipient_id": setup.recipient_id, "items": LINES},
    )
    status, answer = await api(
        "POST", f"{V1}/invoices/{draft['data']['id']}/credit-notes", setup.headers, {"reason": "x"}
    )
    assert status == 409, answer


async def _edit(api: Any, setup: Any, record_id: int, body: dict[str, Any]) -> tuple[int, Any]:
    return await api("PATCH", f"{V1}/invoices/{record_id}", setup.headers, body)


async def test_an_edit_of_a_draft_credit_note_is_checked_like_its_creation(
    api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    note = await _credit_note(api, setup, invoice["id"], items=[LINES[1]])  # 47.60
    other = await _credit_note(api, setup, invoice["id"], items=[LINES[0]])  # 71.40
    # Beside the other draft, 47.60 is left for this one: not the whole invoice again.
    status, answer = await _edit(api, setup, note["id"], {"items": LINES})
    _422(status, answer, "items")
    smaller = [LINES[1] | {"price": 20}]
    status, answer = await _edit(api, setup, note["id"], {"items": smaller})
    assert status == 200, answer
    assert answer["data"]["total"] == "23.80"
    # Its buyer, invoicer and currency are the invoice's.
    status, stranger = await api(
        "POST",
        f"{V1}/recipients",
        setup.headers,
        {"company_entity": "Other Corp", "organisation_id": setup.organisation_id},
    )
    assert status == 201, stranger
    status, invoicer = await api(
        "POST",
        f"{V1}/invoicers",
        setup.headers,
        {"company_id": setup.company_id, "company_entity": "Acme Two", "currency": "EUR"},
    )
    assert status == 201, invoicer
    for field, value, named in (
        ("customer_id", stranger["data"]["id"], "invoice_recipient_id"),
        ("invoice_recipient_id", None, "invoice_recipient_id"),
        ("invoicer_id", invoicer["data"]["id"], "invoicer_id"),
        ("currency", "USD", "currency"),
    ):
        status, answer = await _edit(api, setup, other["id"], {field: value})
        _422(status, answer, named)
        status, answer = await _edit(api, setup, other["id"], {field: value, "items": LINES[:1]})
        _422(status, answer, named)
    kept = await _invoice(api, setup, other["id"])
    assert (kept["invoice_recipient_id"], kept["invoicer_id"], kept["currency"]) == (
        setup.recipient_id,
        setup.invoicer_id,
        "EUR",
    )
    # An edit repeating the invoice's own values is fine.
    status, answer = await _edit(
        api, setup, other["id"], {"currency": "EUR", "invoicer_id": setup.invoicer_id}
    )
    assert status == 200, answer


async def test_two_edits_of_credit_notes_racing_never_credit_more_than_the_invoice(
    api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    first = await _credit_note(api, setup, invoice["id"], items=[LINES[1]])  # 47.60
    second = await _credit_note(api, setup, invoice["id"], items=[LINES[1]])  # 47.60
    # 71.40 each: either fits beside the other's 47.60, both together do not.
    design = [LINES[0]]
    answers = await asyncio.gather(
        *(_edit(api, setup, note["id"], {"items": design}) for note in (first, second))
    )
    assert sorted(status for status, _ in answers) == [200, 422], answers
    totals = [Decimal((await _invoice(api, setup, n["id"]))["total"]) for n in (first, second)]
    assert sum(totals) == Decimal("119.00")


# Net 60.00 at 19 % and 40.00 at 7 %: total 114.20.
TWO_RATES = [LINES[0], {"label": "Books", "quantity": 1, "price": 40, "tax_percentage": 7}]


async def test_a_credit_note_credits_only_the_invoices_vat_groups(
    api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup, items=TWO_RATES)
    path = f"{V1}/invoices/{invoice['id']}/credit-notes"
    line = {"label": "x", "quantity": 1, "price": 10}
    for position, rate in ((0, 16), (1, 0)):
        items = [line | {"tax_percentage": 19}] * position + [line | {"tax_percentage": rate}]
        status, answer = await api("POST", path, setup.headers, {"reason": "x", "items": items})
        _422(status, answer, f"items.{position}.tax_percentage")
    # 50.00 net at 7 % is within the invoice's total but beyond the 40.00 of its group.
    over = [line | {"price": 30, "tax_percentage": 7}, line | {"price": 20, "tax_percentage": 7}]
    status, answer = await api("POST", path, setup.headers, {"reason": "x", "items": over})
    _422(status, answer, "items")
    books = await _credit_note(
        api, setup, invoice["id"], items=[line | {"price": 25, "tax_percentage": 7}]
    )
    # The group's 15.00 left, not more, also for an edit of a draft.
    status, answer = await _edit(api, setup, books["id"], {"items": over})
    _422(status, answer, "items")
    status, answer = await api(
        "POST",
        path,
        setup.headers,
        {"reason": "x", "items": [line | {"price": 16, "tax_percentage": 7}]},
    )
    _422(status, answer, "items")
    # The rest, with no items, is then always what the groups have left.
    rest = await _credit_note(api, setup, invoice["id"])
    assert rest["total"] == "87.45"  # 60.00 at 19 % and 15.00 at 7 %
    for note in (books, rest):
        status, issued = await _approve(api, setup, note["id"])
        assert status == 200, issued
    assert (await _invoice(api, setup, invoice["id"]))["status"] == "credited"


async def test_drafts_holding_the_rest_are_named_as_such(api: Any, make_setup: Any) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    note = await _credit_note(api, setup, invoice["id"])
    path = f"{V1}/invoices/{invoice['id']}/credit-notes"
    status, answer = await api("POST", path, setup.headers, {"reason": "x"})
    assert status == 409, answer
    assert "Draft credit notes" in answer["message"], answer
    assert "credited in full" not in answer["message"], answer
    status, issued = await _approve(api, setup, note["id"])
    assert status == 200, issued
    status, answer = await api("POST", path, setup.headers, {"reason": "x"})
    assert status == 409, answer
    assert "Draft credit notes" not in answer["message"], answer


async def test_crediting_a_paid_invoice_gives_the_customer_credit(
    api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    await _pay(api, setup, invoice["id"], "100.00")  # 19.00 still due
    note = await _credit_note(api, setup, invoice["id"], items=[LINES[1]])  # 47.60
    status, _ = await _approve(api, setup, note["id"])
    assert status == 200
    after = await _invoice(api, setup, invoice["id"])
    # 19.00 of it settles the balance, 28.60 of the money paid becomes credit.
    assert after["status"] == "paid"
    assert (after["amount_credited"], after["amount_paid"], after["balance_due"]) == (
        "47.60",
        "71.40",
        "0.00",
    )
    assert (await _balance(api, setup))["EUR"]["credit_available"] == "28.60"

    # The credit settles another invoice of the customer, in its currency.
    other = await _issued(api, setup)
    path = f"{V1}/invoices/{other['id']}/apply-credit"
    status, answer = await api("POST", path, setup.headers, {"amount": "30.00"})
    _422(status, answer, "amount")
    status, answer = await api("POST", path, setup.headers, {"amount": "28.60"})
    assert status == 200, answer
    assert answer["data"]["balance_due"] == "90.40"
    assert answer["data"]["payments"][-1]["payment_method"] == "credit"
    balance = (await _balance(api, setup))["EUR"]
    assert (balance["credit_available"], balance["outstanding"]) == ("0.00", "90.40")


async def test_a_member_drafts_but_cannot_issue_a_credit_note(
    api: Any, auth: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    member = await auth.user()
    status, answer = await api(
        "POST",
        f"{V1}/companies/{setup.company_id}/members",
        setup.headers,
        {"email": member.email, "role": "member"},
    )
    assert status in (200, 201), answer
    member_headers = {"Authorization": f"Bearer {await auth.identity_jwt(member.token)}"}
    invoice = await _issued(api, setup)
    status, note = await api(
        "POST",
        f"{V1}/invoices/{invoice['id']}/credit-notes",
        member_headers,
        {"reason": "Typo"},
    )
    assert status == 201, note
    status, answer = await api(
        "POST", f"{V1}/invoices/{note['data']['id']}/approve", member_headers
    )
    assert status == 403, answer
    for path, body in (
        (f"{V1}/invoices/{invoice['id']}/refunds", {"amount": "1.00", "reason": "x"}),
        (f"{V1}/invoices/{invoice['id']}/apply-credit", {"amount": "1.00"}),
        (f"{V1}/payments", {"customer_id": setup.recipient_id, "amount": "1", "currency": "EUR"}),
    ):
        status, answer = await api("POST", path, member_headers, body)
        assert status == 403, (path, answer)


async def test_abilities_are_checked(api: Any, auth: Any, make_setup: Any) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    no_credit_notes = await auth.bearer(["invoices:*"])
    status, answer = await api(
        "POST",
        f"{V1}/invoices/{invoice['id']}/credit-notes",
        no_credit_notes,
        {"reason": "x"},
    )
    assert status == 403, answer
    assert "credit_notes:create" in answer["message"]
    read_only = await auth.bearer(["invoices:read"])
    status, answer = await api(
        "POST",
        f"{V1}/payments",
        read_only,
        {"customer_id": setup.recipient_id, "amount": "1", "currency": "EUR"},
    )
    assert status == 403, answer


async def test_another_tenant_reaches_nothing(api: Any, make_setup: Any) -> None:
    setup, stranger = await make_setup(), await make_setup()
    invoice = await _issued(api, setup)
    for method, path, body in (
        ("POST", f"{V1}/invoices/{invoice['id']}/credit-notes", {"reason": "x"}),
        ("POST", f"{V1}/invoices/{invoice['id']}/refunds", {"amount": "1", "reason": "x"}),
        ("POST", f"{V1}/invoices/{invoice['id']}/apply-credit", {"amount": "1"}),
        ("GET", f"{V1}/customers/{setup.recipient_id}/balance", None),
    ):
        status, answer = await api(method, path, stranger.headers, body)
        assert status == 404, (path, answer)
    status, answer = await api(
        "POST",
        f"{V1}/payments",
        stranger.headers,
        {"customer_id": setup.recipient_id, "amount": "1", "currency": "EUR"},
    )
    assert status == 403, answer
    assert answer["error_code"] == "COMPANY_ACCESS_DENIED"
    status, payment = await api(
        "POST",
        f"{V1}/payments",
        setup.headers,
        {"customer_id": setup.recipient_id, "amount": "5", "currency": "EUR"},
    )
    assert status == 201, payment
    status, answer = await api("GET", f"{V1}/payments/{payment['data']['id']}", stranger.headers)
    assert status == 404, answer
    status, listed = await api("GET", f"{V1}/payments", stranger.headers)
    assert listed["data"] == []


# --- refunds ----------------------------------------------------------------------------


async def test_a_refund_reopens_a_paid_invoice_and_never_exceeds_what_was_paid(
    api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    path = f"{V1}/invoices/{invoice['id']}/refunds"
    status, answer = await api("POST", path, setup.headers, {"amount": "1.00", "reason": "x"})
    assert status == 409, answer  # nothing paid
    paid = await _pay(api, setup, invoice["id"], "119.00")
    assert paid["status"] == "paid"
    payment_id = paid["payments"][0]["id"]
    status, answer = await api("POST", path, setup.headers, {"amount": "119.01", "reason": "x"})
    _422(status, answer, "amount")
    status, answer = await api("POST", path, setup.headers, {"amount": "5.00"})
    _422(status, answer, "reason")
    status, answer = await api(
        "POST", path, setup.headers, {"amount": "5", "reason": "x", "payment_id": 999999999}
    )
    _422(status, answer, "payment_id")
    body = {"amount": "19.00", "reason": "Damaged", "payment_id": payment_id}
    status, answer = await api("POST", path, setup.headers, body | {"refunded_at": "2025-07-01"})
    assert status == 200, answer
    refunded = answer["data"]
    assert refunded["status"] == "approved"  # awaiting payment again: partly paid
    assert (refunded["amount_paid"], refunded["amount_refunded"], refunded["balance_due"]) == (
        "100.00",
        "19.00",
        "19.00",
    )
    assert refunded["payments"][0]["amount_refunded"] == "19.00"
    status, answer = await api("POST", path, setup.headers, {"amount": "100.01", "reason": "x"})
    _422(status, answer, "amount")


async def test_a_refund_racing_a_payment_stays_exact(api: Any, make_setup: Any) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    await _pay(api, setup, invoice["id"], "100.00")
    pay = api("POST", f"{V1}/invoices/{invoice['id']}/pay", setup.headers, {"amount": "19.00"})
    refund = api(
        "POST",
        f"{V1}/invoices/{invoice['id']}/refunds",
        setup.headers,
        {"amount": "100.00", "reason": "x"},
    )
    (pay_status, _), (refund_status, _) = await asyncio.gather(pay, refund)
    assert (pay_status, refund_status) == (200, 200)
    after = await _invoice(api, setup, invoice["id"])
    assert (after["amount_paid"], after["amount_refunded"], after["balance_due"]) == (
        "19.00",
        "100.00",
        "100.00",
    )


# --- payments across invoices -----------------------------------------------------------


async def test_one_payment_settles_several_invoices_and_the_rest_becomes_credit(
    api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    first, second = await _issued(api, setup), await _issued(api, setup)
    body = {
        "customer_id": setup.recipient_id,
        "amount": "250.00",
        "currency": "EUR",
        "paid_date": "2025-06-15",
        "payment_method": "bank_transfer",
        "reference": "SEPA 42",
        "allocations": [
            {"invoice_id": first["id"], "amount": "119.00"},
            {"invoice_id": second["id"], "amount": "100.00"},
        ],
    }
    status, answer = await api("POST", f"{V1}/payments", setup.headers, body)
    assert status == 201, answer
    payment = answer["data"]
    assert (payment["amount"], payment["unallocated"]) == ("250.00", "31.00")
    assert [a["invoice_id"] for a in payment["allocations"]] == [first["id"], second["id"]]
    one, two = [await _invoice(api, setup, i["id"]) for i in (first, second)]
    assert one["status"] == "paid"
    assert (two["amount_paid"], two["balance_due"]) == ("100.00", "19.00")
    assert two["payments"][0]["received_payment_id"] == payment["id"]
    assert two["payments"][0]["reference"] == "SEPA 42"
    balance = (await _balance(api, setup))["EUR"]
    assert (balance["credit_available"], balance["outstanding"]) == ("31.00", "19.00")

    status, listed = await api(
        "GET", f"{V1}/payments?customer_id={setup.recipient_id}", setup.headers
    )
    assert status == 200, listed
    assert [row["id"] for row in listed["data"]] == [payment["id"]]
    assert listed["meta"]["total"] == 1
    status, shown = await api("GET", f"{V1}/payments/{payment['id']}", setup.headers)
    assert shown["data"] == payment


async def test_payment_bad_input_names_the_field(api: Any, make_setup: Any) -> None:
    setup, other = await make_setup(), await make_setup()
    invoice = await _issued(api, setup)
    foreign_currency = await _issued(api, setup, currency="USD")
    base = {"customer_id": setup.recipient_id, "amount": "50.00", "currency": "EUR"}

    async def post(**changes: Any) -> tuple[int, Any]:
        return await api("POST", f"{V1}/payments", setup.headers, base | changes)

    _422(*(await post(amount="0")), "amount")
    _422(*(await post(amount="1.001")), "amount")
    _422(*(await post(currency="EURO")), "currency")
    _422(*(await post(customer_id=999999999)), "customer_id")
    _422(*(await post(payment_method="")), "payment_method")
    too_much = [{"invoice_id": invoice["id"], "amount": "60.00"}]
    _422(*(await post(allocations=too_much)), "allocations")
    twice = [{"invoice_id": invoice["id"], "amount": "1"}] * 2
    _422(*(await post(allocations=twice)), "allocations.1.invoice_id")
    usd = [{"invoice_id": foreign_currency["id"], "amount": "1"}]
    _422(*(await post(allocations=usd)), "allocations.0.invoice_id")
    stranger = await _issued(api, other)
    theirs = [{"invoice_id": stranger["id"], "amount": "1"}]
    _422(*(await post(allocations=theirs)), "allocations.0.invoice_id")
    over = [{"invoice_id": invoice["id"], "amount": "119.01"}]
    _422(*(await post(amount="200", allocations=over)), "allocations.0.amount")
    # Nothing of the refused payments was written.
    assert (await _invoice(api, setup, invoice["id"]))["amount_paid"] == "0.00"
    status, listed = await api("GET", f"{V1}/payments", setup.headers)
    assert listed["data"] == []


async def test_a_customer_holding_credit_cannot_be_deleted(api: Any, make_setup: Any) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    # Paid with 5.00 too much: the invoice is settled, the customer holds 5.00 of credit.
    body = {
        "customer_id": setup.recipient_id,
        "amount": "124.00",
        "currency": "EUR",
        "allocations": [{"invoice_id": invoice["id"], "amount": "119.00"}],
    }
    status, answer = await api("POST", f"{V1}/payments", setup.headers, body)
    assert status == 201, answer
    customer = f"{V1}/customers/{setup.recipient_id}"
    status, answer = await api("DELETE", customer, setup.headers)
    assert status == 409, answer
    assert "credit" in answer["message"], answer
    assert (await _balance(api, setup))["EUR"]["credit_available"] == "5.00"
    # Spent, the credit no longer keeps the customer.
    five = [{"label": "Fee", "quantity": 1, "price": 5, "tax_percentage": 0}]
    fee = await _issued(api, setup, items=five)
    path = f"{V1}/invoices/{fee['id']}/apply-credit"
    status, answer = await api("POST", path, setup.headers, {"amount": "5.00"})
    assert status == 200, answer
    status, answer = await api("DELETE", customer, setup.headers)
    assert status == 204, answer


async def test_two_allocations_racing_for_one_balance_never_overpay(
    api: Any, make_setup: Any
) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)

    def payment() -> Any:
        body = {
            "customer_id": setup.recipient_id,
            "amount": "80.00",
            "currency": "EUR",
            "allocations": [{"invoice_id": invoice["id"], "amount": "80.00"}],
        }
        return api("POST", f"{V1}/payments", setup.headers, body)

    answers = await asyncio.gather(*(payment() for _ in range(4)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201, 422, 422, 422], answers
    after = await _invoice(api, setup, invoice["id"])
    assert (after["amount_paid"], after["balance_due"]) == ("80.00", "39.00")


async def test_two_spends_of_one_credit_never_spend_it_twice(api: Any, make_setup: Any) -> None:
    setup = await make_setup()
    status, answer = await api(
        "POST",
        f"{V1}/payments",
        setup.headers,
        {"customer_id": setup.recipient_id, "amount": "50.00", "currency": "EUR"},
    )
    assert status == 201, answer
    first, second = await _issued(api, setup), await _issued(api, setup)
    spends = [
        api("POST", f"{V1}/invoices/{i['id']}/apply-credit", setup.headers, {"amount": "40.00"})
        for i in (first, second)
    ]
    statuses = sorted(status for status, _ in await asyncio.gather(*spends))
    assert statuses == [200, 422]
    assert (await _balance(api, setup))["EUR"]["credit_available"] == "10.00"


async def test_idempotency_key_records_a_payment_once(api: Any, billing: Any, make_setup: Any):
    setup = await make_setup()
    body = {"customer_id": setup.recipient_id, "amount": "12.00", "currency": "EUR"}
    headers = setup.headers | {"Idempotency-Key": "pay-once-1"}
    answers = []
    for _ in range(2):
        response = await billing.post(f"{V1}/payments", json=body, headers=headers)
        answers.append((response.status, await response.json()))
    assert answers[0] == answers[1]
    assert (await _balance(api, setup))["EUR"]["credit_available"] == "12.00"


# --- events -----------------------------------------------------------------------------


async def test_the_new_events_are_written(api: Any, make_setup: Any) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    await _pay(api, setup, invoice["id"], "119.00")
    note = await _credit_note(api, setup, invoice["id"], items=[LINES[1]])
    await _approve(api, setup, note["id"])
    status, _ = await api(
        "POST",
        f"{V1}/invoices/{invoice['id']}/refunds",
        setup.headers,
        {"amount": "10.00", "reason": "x"},
    )
    assert status == 200
    status, _ = await api(
        "POST",
        f"{V1}/payments",
        setup.headers,
        {"customer_id": setup.recipient_id, "amount": "3.00", "currency": "EUR"},
    )
    assert status == 201
    status, events = await api("GET", f"{V1}/events?per_page=100", setup.headers)
    assert status == 200, events
    types = {event["type"] for event in events["data"]}
    wanted = {
        "credit_note.created",
        "credit_note.approved",
        "invoice.credited",
        "invoice.refunded",
        "payment.received",
        "customer.credit_changed",
    }
    assert wanted <= types, types
    assert wanted <= set(EVENT_TYPES)


@pytest.mark.parametrize("amount", ["-1", "abc", None])
async def test_apply_credit_amount_is_checked(api: Any, make_setup: Any, amount: Any) -> None:
    setup = await make_setup()
    invoice = await _issued(api, setup)
    status, answer = await api(
        "POST", f"{V1}/invoices/{invoice['id']}/apply-credit", setup.headers, {"amount": amount}
    )
    _422(status, answer, "amount")
    assert Decimal((await _invoice(api, setup, invoice["id"]))["amount_paid"]) == 0
