"""Answers of the reports, and the same figures as CSV rows (one documented column set each)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal

from pydantic import Field

from billing_service.platform.csv_output import Cell
from shared.models import View


class AgedAmounts(View):
    """One customer's (or a currency's) balance by age: the buckets of platform/aging.py."""

    current: Decimal = Field(description="Not yet past due (or due today)")
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal
    total: Decimal
    invoices: int = Field(description="Invoices with a balance on the date")


class AgedCustomer(AgedAmounts):
    customer_id: int | None = Field(description="None: invoices without a customer")
    customer_name: str | None


class AgedCurrency(View):
    currency: str
    customers: list[AgedCustomer] = Field(description="By customer name, then id")
    totals: AgedAmounts


class AgingReport(View):
    company_id: int
    as_of: date
    currencies: list[AgedCurrency] = Field(description="Each currency owed in, by code")


class TaxGroup(View):
    """A VAT category and rate in one currency. Accrual basis: `added_*` from invoices issued,
    `deducted_*` from credit notes issued; cash basis: `added_*` the share of money received,
    `deducted_*` of money given back (refunds, money moved to the customer's credit)."""

    currency: str
    vat_category: str = Field(description="UNCL 5305: S, Z, E, AE, K, G, O")
    rate: Decimal
    added_taxable: Decimal
    added_vat: Decimal
    deducted_taxable: Decimal
    deducted_vat: Decimal
    taxable_amount: Decimal = Field(description="added_taxable - deducted_taxable")
    vat: Decimal = Field(description="added_vat - deducted_vat")


class TaxTotal(View):
    currency: str
    taxable_amount: Decimal
    vat: Decimal


class TaxReport(View):
    company_id: int
    from_: date = Field(alias="from")
    to: date
    basis: str
    groups: list[TaxGroup] = Field(description="By currency, category, rate")
    totals: list[TaxTotal] = Field(description="One per currency")


class RevenuePeriod(View):
    period: str = Field(description="2026-03, 2026-Q1 or 2026")
    period_start: date = Field(description="Within the report's range")
    period_end: date
    currency: str
    invoiced: Decimal = Field(description="Totals of the invoices issued")
    credited: Decimal = Field(description="Totals of the credit notes issued")
    collected: Decimal = Field(
        description="Payments (credit applied included), less refunds and less money that "
        "credit notes moved to customers' credit"
    )
    outstanding: Decimal = Field(description="Owed at the end of period_end (the ageing total)")


class RevenueReport(View):
    company_id: int
    from_: date = Field(alias="from")
    to: date
    group: str
    periods: list[RevenuePeriod] = Field(description="By period, then currency")


AGING_COLUMNS = (
    "currency", "customer_id", "customer_name", "current", "days_1_30", "days_31_60",
    "days_61_90", "over_90", "total", "invoices",
)  # fmt: skip
TAX_COLUMNS = (
    "currency", "vat_category", "rate", "added_taxable", "added_vat", "deducted_taxable",
    "deducted_vat", "taxable_amount", "vat",
)  # fmt: skip
REVENUE_COLUMNS = (
    "period", "period_start", "period_end", "currency", "invoiced", "credited", "collected",
    "outstanding",
)  # fmt: skip


def aging_rows(report: AgingReport) -> Iterator[Sequence[Cell]]:
    """One row per customer and currency, then the currency's total (customer_name `Total`,
    no customer_id)."""
    for block in report.currencies:
        for customer in block.customers:
            yield _row(block.currency, customer, AGING_COLUMNS)
        totals = block.totals.model_dump() | {"customer_id": None, "customer_name": "Total"}
        yield [block.currency, *(totals[name] for name in AGING_COLUMNS[1:])]


def tax_rows(report: TaxReport) -> Iterator[Sequence[Cell]]:
    for group in report.groups:
        yield _row(group.currency, group, TAX_COLUMNS)


def revenue_rows(report: RevenueReport) -> Iterator[Sequence[Cell]]:
    for period in report.periods:
        values = period.model_dump()
        yield [values[name] for name in REVENUE_COLUMNS]


def _row(currency: str, record: View, columns: Sequence[str]) -> list[Cell]:
    values = record.model_dump()
    return [currency, *(values[name] for name in columns[1:])]
