"""The invoice state machine: every action from every status of every type.

The expectations are written from the API contract's words (its state machine, quoted beside
each), not copied from `lifecycle._ALLOWED`: a change to the table that the contract does not
allow fails here.
Pure functions: no database, no service.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing_service.invoices.lifecycle import (
    allowed,
    available_actions,
    can_delete,
    import_path,
    require,
    status_after_send,
)
from shared.errors import Conflict, ValidationFailed

STATUSES = (
    "draft",
    "scheduled",
    "due",
    "approved",
    "sent",
    "paid",
    "cancelled",
    "declined",
    "converted",
)
KINDS = ("invoice", "quote", "recurring", "template")
ACTIONS = (
    "update",
    "approve",
    "send",
    "pay",
    "cancel",
    "decline",
    "convert",
    "create_next",
    "set_schedule_date",
    "set_due_date",
    "set_period",
)

# "PUT/PATCH /invoices/{id}: only in draft or scheduled, else 409"
EDITABLE = {"draft", "scheduled"}
# "invoice status Unpaid (approved/sent/due, overdue too)"
UNPAID = {"approved", "sent", "due"}
# "any unpaid -> cancelled ... (not from paid: 409)": not yet paid and not ended otherwise.
OPEN = EDITABLE | UNPAID
NOTHING: set[str] = set()

EXPECTED: dict[tuple[str, str], set[str]] = {}


def expect(action: str, by_kind: dict[str, set[str]]) -> None:
    for kind in KINDS:
        EXPECTED[action, kind] = by_kind.get(kind, NOTHING)


expect("update", dict.fromkeys(KINDS, EDITABLE))
# "draft/scheduled/sent quote -> approved"; a recurring record or template is never issued
# itself (the invoices made from it are), so it is never approved.
expect("approve", {"invoice": EDITABLE, "quote": EDITABLE | {"sent"}})
# Sending is e-mailing with a template: an invoice is sent while open and once paid (the
# `invoice-paid` receipt), never once cancelled; a quote when drafted or approved (`quote`)
# and once the client has acted on it (`estimate-actioned`: declined or converted).
expect(
    "send",
    {"invoice": OPEN | {"paid"}, "quote": {"draft", "approved", "sent", "declined", "converted"}},
)
# "sent/due -> paid", "draft -> approved -> sent -> paid": an unpaid invoice; quotes and
# templates are never paid.
expect("pay", {"invoice": UNPAID})
expect("cancel", dict.fromkeys(KINDS, OPEN))
# "quote sent -> approved | declined" (and a quote not sent yet may be turned down too).
expect("decline", {"quote": {"draft", "sent", "approved"}})
# "POST /invoices/{id}/convert: a new record with copied items; the source is untouched (a
# quote converted to an invoice gets status converted)": any record not ended, and an invoice
# also once paid (a copy of it); a quote once, before it is declined or converted.
expect(
    "convert",
    {
        "invoice": OPEN | {"paid"},
        "quote": EDITABLE | {"approved", "sent"},
        "recurring": OPEN,
        "template": OPEN,
    },
)
# "POST /invoices/{id}/create-next: recurring only", while the series runs.
expect("create_next", {"recurring": OPEN})
# The schedule date is the issue date: it changes only while the record is editable.
expect("set_schedule_date", dict.fromkeys(KINDS, EDITABLE))
# A due date moves while money may still come; a period is a label kept even once paid.
expect("set_due_date", dict.fromkeys(KINDS, OPEN))
expect("set_period", dict.fromkeys(KINDS, OPEN | {"paid"}))


@pytest.mark.parametrize(("action", "kind"), sorted(EXPECTED))
def test_each_action_starts_only_from_the_statuses_api_md_allows(action: str, kind: str) -> None:
    starts = {status for status in STATUSES if allowed(action, kind, status)}
    assert starts == EXPECTED[action, kind]


def test_the_expectations_cover_every_action_and_type() -> None:
    assert set(EXPECTED) == {(action, kind) for action in ACTIONS for kind in KINDS}


def test_nothing_leaves_a_final_status_but_a_receipt_or_a_copy() -> None:
    # "paid, cancelled, declined, converted" end the lifecycle.
    for status in ("paid", "cancelled", "declined", "converted"):
        for kind in KINDS:
            moves = {action for action in ACTIONS if allowed(action, kind, status)}
            assert moves <= {"send", "convert", "set_period"}, (kind, status, moves)


def test_an_unknown_action_or_type_is_refused() -> None:
    assert not allowed("refund", "invoice", "paid")
    assert not allowed("approve", "credit-note", "draft")


def test_pay_needs_a_balance_left() -> None:
    assert allowed("pay", "invoice", "sent", balance_due=Decimal("0.01"))
    assert not allowed("pay", "invoice", "sent", balance_due=Decimal(0))


def test_money_received_blocks_cancel_and_delete() -> None:
    # "refund first, then cancel"; "DELETE: not when paid or with payments (409)"
    assert allowed("cancel", "invoice", "sent", amount_paid=Decimal(0))
    assert not allowed("cancel", "invoice", "sent", amount_paid=Decimal("0.01"))
    assert can_delete("invoice", "sent", Decimal(0))
    assert not can_delete("invoice", "sent", Decimal("5.00"))
    assert not can_delete("invoice", "paid", Decimal(0))
    assert not can_delete("invoice", "credited", Decimal(0))


def test_a_credit_note_is_issued_by_approval_and_then_stands() -> None:
    assert allowed("approve", "credit_note", "draft")
    assert allowed("update", "credit_note", "draft")
    assert not allowed("update", "credit_note", "approved")
    assert allowed("send", "credit_note", "approved")
    assert not allowed("send", "credit_note", "draft")
    assert not allowed("cancel", "credit_note", "approved")
    assert not allowed("pay", "credit_note", "approved")
    assert can_delete("credit_note", "draft", Decimal(0))
    assert not can_delete("credit_note", "approved", Decimal(0))


@pytest.mark.parametrize(
    ("action", "kind", "status", "paid", "message"),
    [
        ("pay", "quote", "sent", 0, "Cannot pay a quote that is sent."),
        ("approve", "invoice", "paid", 0, "Cannot approve an invoice that is paid."),
        ("cancel", "invoice", "sent", 1, "Cannot cancel an invoice that is sent with payments."),
        ("create_next", "recurring", "paid", 0, "Cannot create-next a recurring that is paid."),
    ],
)
def test_a_refused_transition_is_a_conflict_naming_the_record_and_status(
    action: str, kind: str, status: str, paid: int, message: str
) -> None:
    with pytest.raises(Conflict) as refused:
        require(action, kind, status, amount_paid=Decimal(paid))
    assert refused.value.message == message


def test_an_allowed_transition_is_not_refused() -> None:
    require("approve", "invoice", "draft")
    require("pay", "invoice", "due", balance_due=Decimal("0.01"))


def test_available_actions_list_what_is_allowed_now_in_order() -> None:
    # The contract's example: a draft invoice offers approve, send, cancel (and more).
    draft = available_actions("invoice", "draft", Decimal(0), Decimal(10))
    assert draft == ["update", "approve", "send", "cancel", "convert", "delete"]
    part_paid = available_actions("invoice", "sent", Decimal(4), Decimal(6))
    assert part_paid == ["send", "pay", "convert"]  # no cancel, no delete with payments
    assert available_actions("invoice", "paid", Decimal(10), Decimal(0)) == ["send", "convert"]
    assert available_actions("quote", "sent", Decimal(0), Decimal(10)) == [
        "approve",
        "send",
        "cancel",
        "decline",
        "convert",
        "delete",
    ]


@pytest.mark.parametrize(
    ("kind", "status", "template", "after"),
    [
        # "invoice-issued moves approved/draft -> sent"
        ("invoice", "draft", "invoice-issued", "sent"),
        ("invoice", "approved", "invoice-issued", "sent"),
        ("invoice", "due", "invoice-issued", "due"),
        ("invoice", "scheduled", "invoice-issued", "scheduled"),
        ("invoice", "sent", "invoice-reminder", "sent"),
        ("invoice", "approved", "invoice-reminder", "approved"),
        ("invoice", "paid", "invoice-paid", "paid"),
        ("quote", "draft", "quote", "sent"),
        ("quote", "approved", "quote", "approved"),
        ("quote", "draft", "invoice-issued", "draft"),
        ("invoice", "draft", "quote", "draft"),
    ],
)
def test_only_the_issuing_templates_move_a_record_to_sent(
    kind: str, status: str, template: str, after: str
) -> None:
    assert status_after_send(kind, status, template) == after


@pytest.mark.parametrize(
    ("kind", "status", "path"),
    [
        ("invoice", "draft", ()),
        ("invoice", "scheduled", ()),
        ("invoice", "approved", ("approve",)),
        ("invoice", "sent", ("send",)),
        ("invoice", "paid", ("send", "pay")),
        ("invoice", "cancelled", ("cancel",)),
        ("quote", "sent", ("send",)),
        ("quote", "declined", ("decline",)),
        ("recurring", "cancelled", ("cancel",)),
    ],
)
def test_imports_follow_the_lifecycle(kind: str, status: str, path: tuple[str, ...]) -> None:
    assert import_path(kind, status) == path


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("quote", "paid"),  # a quote is never paid
        ("invoice", "declined"),  # only quotes are declined
        ("recurring", "sent"),  # a recurring template is not sent
        ("template", "approved"),
        ("invoice", "due"),  # reached on the date only, never created so
        ("invoice", "converted"),
        ("invoice", "Paid"),
    ],
)
def test_imports_the_lifecycle_cannot_reach_are_a_422_on_status(kind: str, status: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        import_path(kind, status)
    assert list(refused.value.errors) == ["status"]
