"""The invoice state machine (docs/api.md), as data: which action is allowed from where.

Statuses: draft, scheduled, due, approved, sent, paid, cancelled, declined, converted.
draft -> approved -> sent -> paid; draft -> scheduled -> due (on the date); sent/due -> paid;
any unpaid -> cancelled; quote sent -> approved | declined; approved quote -> converted.
Clients get `available_actions` so they need not re-implement any of this.
"""

from __future__ import annotations

from decimal import Decimal

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
    "credited",  # an invoice its credit notes credited in full, nothing paid
)
EDITABLE = frozenset({"draft", "scheduled"})
FINAL = frozenset({"paid", "cancelled", "declined", "converted", "credited"})
# Overdue is no status of its own: an invoice is overdue while it awaits payment (sent, or
# due on its date), still has a balance, and its due date has passed in its company's
# timezone. Lists filter by it (`?status=overdue`); repositories.invoice_queries says it in SQL.
OVERDUE = "overdue"
AWAITING_PAYMENT = frozenset({"sent", "due"})

# action -> type -> statuses it may start from
_ALLOWED: dict[str, dict[str, frozenset[str]]] = {
    "approve": {
        "invoice": frozenset({"draft", "scheduled"}),
        "quote": frozenset({"draft", "scheduled", "sent"}),
        "credit_note": frozenset({"draft"}),  # approving a credit note issues it
    },
    "send": {
        "invoice": frozenset({"draft", "scheduled", "due", "approved", "sent", "paid"}),
        "quote": frozenset({"draft", "approved", "sent", "declined", "converted"}),
        "credit_note": frozenset({"approved", "sent"}),  # issued ones only
    },
    "pay": {"invoice": frozenset({"approved", "sent", "due"})},
    "cancel": {
        kind: frozenset({"draft", "scheduled", "due", "approved", "sent"})
        for kind in ("invoice", "quote", "recurring", "template")
    }
    | {"credit_note": frozenset({"draft"})},  # an issued credit note stands
    "decline": {"quote": frozenset({"draft", "sent", "approved"})},
    "convert": {
        "invoice": frozenset({"draft", "scheduled", "due", "approved", "sent", "paid"}),
        "quote": frozenset({"draft", "scheduled", "approved", "sent"}),
        "recurring": frozenset({"draft", "scheduled", "approved", "sent", "due"}),
        "template": frozenset({"draft", "scheduled", "approved", "sent", "due"}),
    },
    "create_next": {"recurring": frozenset({"draft", "scheduled", "approved", "sent", "due"})},
    "set_schedule_date": {kind: EDITABLE for kind in ("invoice", "quote", "recurring", "template")},
    "set_due_date": {
        kind: frozenset({"draft", "scheduled", "due", "approved", "sent"})
        for kind in ("invoice", "quote", "recurring", "template")
    },
    "set_period": {
        kind: frozenset({"draft", "scheduled", "due", "approved", "sent", "paid"})
        for kind in ("invoice", "quote", "recurring", "template")
    },
    "update": {
        kind: EDITABLE for kind in ("invoice", "quote", "recurring", "template", "credit_note")
    },
}
# Listed for clients in this order.
_ACTIONS = ("update", "approve", "send", "pay", "cancel", "decline", "convert", "create_next")


def allowed(
    action: str,
    kind: str,
    status: str,
    *,
    amount_paid: Decimal = Decimal(0),
    balance_due: Decimal = Decimal(1),
) -> bool:
    if status not in _ALLOWED.get(action, {}).get(kind, frozenset()):
        return False
    if action == "pay":
        return balance_due > 0
    if action == "cancel":
        return amount_paid == 0  # money received: refund first, then cancel
    return True


def require(
    action: str,
    kind: str,
    status: str,
    *,
    amount_paid: Decimal = Decimal(0),
    balance_due: Decimal = Decimal(1),
) -> None:
    if not allowed(action, kind, status, amount_paid=amount_paid, balance_due=balance_due):
        label = action.replace("_", "-")
        article = "an" if kind[0] in "aeiou" else "a"
        why = " with payments" if amount_paid > 0 else ""
        raise Conflict(f"Cannot {label} {article} {kind} that is {status}{why}.")


def available_actions(
    kind: str, status: str, amount_paid: Decimal, balance_due: Decimal
) -> list[str]:
    actions = [
        action
        for action in _ACTIONS
        if allowed(action, kind, status, amount_paid=amount_paid, balance_due=balance_due)
    ]
    if can_delete(kind, status, amount_paid):
        actions.append("delete")
    return actions


def can_delete(kind: str, status: str, amount_paid: Decimal) -> bool:
    """Nothing paid or credited (a credited invoice is kept), and a credit note only while it
    is a draft: once issued it is part of the books."""
    if kind == "credit_note":
        return status == "draft"
    return status not in {"paid", "credited"} and amount_paid == 0


SEND_TEMPLATES = (
    "quote",
    "invoice-issued",
    "invoice-reminder",
    "invoice-due",
    "invoice-due-reminder",
    "estimate-actioned",
    "invoice-paid",
)


def status_after_send(kind: str, status: str, template: str) -> str:
    """`invoice-issued` moves an approved or draft invoice to sent; `quote` does the same for
    a quote. Other templates leave the status alone."""
    if (
        kind in ("invoice", "credit_note")
        and template == "invoice-issued"
        and status in {"draft", "approved", "scheduled", "due"}
    ):
        return "sent" if status in {"draft", "approved"} else status
    if kind == "quote" and template == "quote" and status in {"draft", "approved"}:
        return "sent" if status == "draft" else status
    return status


# Statuses a new record may be created in (InvoiceMee's `status` on POST /invoices, to import
# invoices from another system), each with the actions that lead there from draft. Draft and
# scheduled are where records start; the others are reached by checking those actions as if
# they were taken, so an import never makes a record the lifecycle could not.
IMPORTS: dict[str, tuple[str, ...]] = {
    "draft": (),
    "scheduled": (),
    "approved": ("approve",),
    "sent": ("send",),
    "paid": ("send", "pay"),
    "cancelled": ("cancel",),
    "declined": ("decline",),
}
_REACHED = {"approve": "approved", "pay": "paid", "cancel": "cancelled", "decline": "declined"}


def import_path(kind: str, status: str) -> tuple[str, ...]:
    """The actions a record of `kind` created in `status` goes through (none for draft and
    scheduled, where records start); 422 on `status` when the lifecycle does not lead there
    (a quote is never paid, only quotes are declined, recurring templates are not sent)."""
    if status not in IMPORTS:
        raise ValidationFailed.field("status", f"The status must be one of: {', '.join(IMPORTS)}.")
    current = status if status in EDITABLE else "draft"
    for action in IMPORTS[status]:
        if not allowed(action, kind, current):
            break
        if action == "send":
            template = "quote" if kind == "quote" else "invoice-issued"
            current = status_after_send(kind, current, template)
        else:
            current = _REACHED[action]
    if current != status:
        noun = _NOUNS.get(kind, kind)
        raise ValidationFailed.field("status", f"{noun} cannot be created as {status}.")
    return IMPORTS[status]


_NOUNS = {
    "invoice": "An invoice",
    "quote": "A quote",
    "recurring": "A recurring template",
    "template": "A template",
}
