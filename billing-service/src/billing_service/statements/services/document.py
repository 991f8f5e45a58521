"""The statement as pdf-service draws it: the invoice snapshot's parties, branding and
formatting (the same renderer lays it out), with a `statement` part instead of lines and
totals. Pure: no I/O."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing_service.documents.services.snapshot import (
    Formatter,
    LogoImage,
    logo_part,
    party,
    seller_contact,
)
from billing_service.platform.aging import AGE_BUCKET_NAMES
from billing_service.statements.views import StatementLineView, StatementView

TYPE_WORDS = {
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "payment": "Payment",
    "refund": "Refund",
    "credit_applied": "Credit applied",
}
BUCKET_WORDS = dict(
    zip(
        AGE_BUCKET_NAMES,
        ("Current", "1-30 days", "31-60 days", "61-90 days", "Over 90 days"),
        strict=True,
    )
)


def statement_snapshot(
    view: StatementView,
    issuer: dict[str, Any],
    customer: dict[str, Any],
    locale: str,
    logo: LogoImage | None,
) -> dict[str, Any]:
    fmt = Formatter(locale, view.currency)
    return {
        "label": period_words(view, fmt),
        "title": "Statement",
        "type": "statement",
        "currency": view.currency,
        "issue_date": fmt.date(view.issued_on),
        "invoicer": party(issuer, fmt) | seller_contact(issuer),
        "recipient": party(customer, fmt)
        | {"contact": customer.get("contact_name"), "email": customer.get("email")},
        "recipient_title": "CUSTOMER",
        "items": [],
        "totals": {},
        "statement": _statement(view, fmt),
        "logo": logo_part(logo),
    }


def period_words(view: StatementView, fmt: Formatter) -> str:
    return f"{fmt.date(view.period_from)} to {fmt.date(view.period_to)}"


def _statement(view: StatementView, fmt: Formatter) -> dict[str, Any]:
    aging = view.aging.model_dump()
    return {
        "currency": view.currency,
        "opening": {"date": fmt.date(view.period_from), "balance": fmt.money(view.opening_balance)},
        "lines": [_line(line, fmt) for line in view.lines],
        "closing": {"date": fmt.date(view.period_to), "balance": fmt.money(view.closing_balance)},
        "aging": [
            {"label": BUCKET_WORDS[name], "amount": fmt.money(aging[name])}
            for name in AGE_BUCKET_NAMES
        ],
        "owed": fmt.money(view.owed),
        "credit_available": fmt.money(view.credit_available),
        "balance_label": "Balance due" if view.closing_balance >= 0 else "In credit",
    }


def _line(line: StatementLineView, fmt: Formatter) -> dict[str, Any]:
    def shown(amount: Decimal) -> str:
        return fmt.money(amount) if amount else ""

    return {
        "date": fmt.date(line.date),
        "type": TYPE_WORDS[line.type],
        "reference": line.reference,
        "description": line.description,
        "debit": shown(line.debit),
        "credit": shown(line.credit),
        "balance": fmt.money(line.balance),
    }
