"""Answers of accounts receivable: a customer's balance, a received payment."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from billing_service.platform.money import round_money
from billing_service.platform.repositories.crud import Row
from billing_service.receivables.repositories import ReceivedPayment
from shared.models import View


class CurrencyBalance(View):
    currency: str
    outstanding: Decimal = Field(description="The balance due of its issued, unpaid invoices")
    open_invoices: int
    credit_available: Decimal = Field(description="Credit to settle invoices with")


class CustomerBalanceView(View):
    customer_id: int
    balances: list[CurrencyBalance] = Field(description="One per currency with any of them")


class AllocationView(View):
    invoice_id: int
    invoice_number: str
    amount: Decimal
    payment_id: int = Field(description="The allocation as a payment of its invoice")


class ReceivedPaymentView(View):
    id: int
    company_id: int
    customer_id: int
    amount: Decimal
    unallocated: Decimal = Field(description="What went to the customer's credit")
    currency: str
    paid_date: date
    payment_method: str | None
    reference: str | None
    created_at: datetime
    allocations: list[AllocationView]


def customer_balance(customer_id: int, owed: list[Row], credits: list[Row]) -> CustomerBalanceView:
    by_currency: dict[str, dict[str, object]] = {}
    for row in owed:
        currency = row["currency"].strip()
        by_currency[currency] = {
            "outstanding": round_money(row["outstanding"], currency),
            "open_invoices": row["invoices"],
        }
    for row in credits:
        currency = row["currency"].strip()
        by_currency.setdefault(currency, {})["credit_available"] = round_money(
            row["available"], currency
        )
    balances = [
        CurrencyBalance(
            currency=currency,
            outstanding=shown.get("outstanding", round_money(Decimal(0), currency)),
            open_invoices=shown.get("open_invoices", 0),
            credit_available=shown.get("credit_available", round_money(Decimal(0), currency)),
        )
        for currency, shown in sorted(by_currency.items())
    ]
    return CustomerBalanceView(customer_id=customer_id, balances=balances)


def received_payment_view(payment: ReceivedPayment, allocations: list[Row]) -> ReceivedPaymentView:
    currency = payment.currency.strip()
    return ReceivedPaymentView(
        id=payment.id,
        company_id=payment.company_id,
        customer_id=payment.recipient_id,
        amount=round_money(payment.amount, currency),
        unallocated=round_money(payment.unallocated, currency),
        currency=currency,
        paid_date=payment.paid_date,
        payment_method=payment.payment_method,
        reference=payment.reference,
        created_at=payment.created_at,
        allocations=[
            AllocationView(
                invoice_id=row["invoice_id"],
                invoice_number=row["label"],
                amount=round_money(row["amount"], currency),
                payment_id=row["payment_id"],
            )
            for row in allocations
        ],
    )
