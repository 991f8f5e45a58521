"""The reports of one company, for its owners and admins: the figures are sums the database
makes of the records themselves (reports/repositories.py says which records count and how
they are dated); this module checks who asks and what, buckets, rounds and arranges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import asyncpg

from billing_service.companies.services.scoped import named
from billing_service.invoices.repositories.invoices import company_timezone
from billing_service.platform.aging import AGE_BUCKET_NAMES
from billing_service.platform.money import quantum, round_money
from billing_service.platform.permissions import require
from billing_service.platform.recurrence import company_today
from billing_service.platform.repositories import scope as scope_repo
from billing_service.platform.scope import Scope
from billing_service.reports import repositories as repo
from billing_service.reports.repositories import AgedBalance
from billing_service.reports.schemas import AgingQuery, PeriodQuery, RevenueQuery, TaxQuery
from billing_service.reports.views import (
    AgedAmounts,
    AgedCurrency,
    AgedCustomer,
    AgingReport,
    RevenuePeriod,
    RevenueReport,
    TaxGroup,
    TaxReport,
    TaxTotal,
)
from shared.clock import Clock
from shared.errors import ValidationFailed

# The longest ranges a report covers: a VAT return's year, a decade of revenue.
MAX_TAX_DAYS = 366
MAX_REVENUE_DAYS = 3653
ZERO = Decimal(0)


class Reports:
    def __init__(self, pool: asyncpg.Pool, clock: Clock) -> None:
        self.pool = pool
        self.clock = clock

    async def aging(self, scope: Scope, query: AgingQuery) -> AgingReport:
        async with self.pool.acquire() as conn:
            company = await report_company(conn, scope, query.company_id)
            today = company_today(self.clock(), await company_timezone(conn, company))
            as_of = query.as_of or today
            if as_of > today:
                raise ValidationFailed.field("as_of", "The date must not be after today.")
            balances = await repo.aged_balances(conn, company, as_of, query.currency)
        return aging_report(company, as_of, balances)

    async def tax(self, scope: Scope, query: TaxQuery) -> TaxReport:
        check_range(query, MAX_TAX_DAYS)
        async with self.pool.acquire() as conn:
            company = await report_company(conn, scope, query.company_id)
            rows = await repo.tax_groups(
                conn, company, query.from_, query.to, query.currency, query.basis
            )
        groups = sorted(
            (tax_group(row) for row in rows),
            key=lambda g: (g.currency, g.vat_category, g.rate),
        )
        return TaxReport(
            company_id=company,
            from_=query.from_,
            to=query.to,
            basis=query.basis,
            groups=groups,
            totals=tax_totals(groups),
        )

    async def revenue(self, scope: Scope, query: RevenueQuery) -> RevenueReport:
        check_range(query, MAX_REVENUE_DAYS)
        async with self.pool.acquire() as conn:
            company = await report_company(conn, scope, query.company_id)
            opening = await repo.aged_balances(
                conn, company, query.from_ - timedelta(days=1), query.currency
            )
            rows = await repo.revenue_periods(
                conn, company, query.from_, query.to, query.group, query.currency
            )
        return RevenueReport(
            company_id=company,
            from_=query.from_,
            to=query.to,
            group=query.group,
            periods=revenue_periods(query, owed_by_currency(opening), rows),
        )


async def report_company(conn: asyncpg.Connection, scope: Scope, company_id: int | None) -> int:
    """The company `?company_id=` names (one of the caller's), else their current or only
    one; the caller's role there must allow reading reports (owners and admins)."""
    scope.require_member()
    if company_id is not None:
        company = await named(conn, scope, "companies", company_id, "company_id")
    else:
        current = await scope_repo.current_company(conn, scope.user_id)
        if current is not None and current in scope.roles:
            company = current
        elif len(scope.roles) == 1:
            company = next(iter(scope.roles))
        else:
            raise ValidationFailed.field("company_id", "The company id field is required.")
    require(scope, company, "reports.read")
    return company


def check_range(query: PeriodQuery, longest_days: int) -> None:
    if query.to < query.from_:
        raise ValidationFailed.field("to", "The date must not be before from.")
    if (query.to - query.from_).days + 1 > longest_days:
        raise ValidationFailed.field(
            "to", f"The range must not be longer than {longest_days} days."
        )


def aging_report(company: int, as_of: date, balances: Iterable[AgedBalance]) -> AgingReport:
    """Per currency, customers by name with their buckets, then the currency's totals."""
    by_currency: dict[str, list[AgedCustomer]] = defaultdict(list)
    for balance in balances:
        by_currency[balance.currency].append(_aged_customer(balance))
    currencies = []
    for currency in sorted(by_currency):
        customers = sorted(
            by_currency[currency],
            key=lambda c: (c.customer_name is None, c.customer_name or "", c.customer_id),
        )
        currencies.append(
            AgedCurrency.model_construct(
                currency=currency, customers=customers, totals=_sum_aged(customers)
            )
        )
    return AgingReport.model_construct(company_id=company, as_of=as_of, currencies=currencies)


def _aged_customer(balance: AgedBalance) -> AgedCustomer:
    """Built from the database's sums as they are (model_construct: a report holds thousands
    of customers, and validating each again is most of its time)."""
    unit = quantum(balance.currency)
    rounded = {
        name: amount.quantize(unit, ROUND_HALF_UP) for name, amount in balance.buckets.items()
    }
    return AgedCustomer.model_construct(
        None,  # every field set
        customer_id=balance.customer_id,
        customer_name=balance.customer_name,
        total=sum(rounded.values(), ZERO),
        invoices=balance.invoices,
        **rounded,
    )


def _sum_aged(customers: list[AgedCustomer]) -> AgedAmounts:
    fields = (*AGE_BUCKET_NAMES, "total")
    sums = {name: sum((getattr(c, name) for c in customers), ZERO) for name in fields}
    return AgedAmounts.model_construct(None, invoices=sum(c.invoices for c in customers), **sums)


def owed_by_currency(balances: Iterable[AgedBalance]) -> dict[str, Decimal]:
    owed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for balance in balances:
        owed[balance.currency] += sum(balance.buckets.values(), ZERO)
    return owed


def tax_group(row: asyncpg.Record) -> TaxGroup:
    """The row's sums (exact shares on the cash basis) rounded once, to the currency."""
    currency = row["currency"]
    figures = {
        name: round_money(row[column] or ZERO, currency)
        for name, column in (
            ("added_taxable", "added_net"),
            ("added_vat", "added_tax"),
            ("deducted_taxable", "deducted_net"),
            ("deducted_vat", "deducted_tax"),
        )
    }
    return TaxGroup(
        currency=currency,
        vat_category=row["category"],
        rate=row["rate"],
        taxable_amount=figures["added_taxable"] - figures["deducted_taxable"],
        vat=figures["added_vat"] - figures["deducted_vat"],
        **figures,
    )


def tax_totals(groups: list[TaxGroup]) -> list[TaxTotal]:
    totals: dict[str, tuple[Decimal, Decimal]] = {}
    for group in groups:
        taxable, vat = totals.get(group.currency, (ZERO, ZERO))
        totals[group.currency] = (taxable + group.taxable_amount, vat + group.vat)
    return [
        TaxTotal(currency=currency, taxable_amount=taxable, vat=vat)
        for currency, (taxable, vat) in sorted(totals.items())
    ]


def revenue_periods(
    query: RevenueQuery, opening: dict[str, Decimal], rows: Iterable[asyncpg.Record]
) -> list[RevenuePeriod]:
    """Every period of the range for every currency with money in it; outstanding runs on
    from what was owed the day before the range."""
    moved = {(row["period"], row["currency"]): row for row in rows}
    currencies = sorted({currency for _, currency in moved} | {c for c, v in opening.items() if v})
    outstanding = {currency: opening.get(currency, ZERO) for currency in currencies}
    periods = []
    for start, end, label in period_bounds(query.from_, query.to, query.group):
        for currency in currencies:
            row = moved.get((period_start(start, query.group), currency))
            invoiced, credited, collected = (
                (row["invoiced"], row["credited"], row["collected"]) if row else (ZERO,) * 3
            )
            outstanding[currency] += invoiced - credited - collected
            periods.append(
                RevenuePeriod(
                    period=label,
                    period_start=start,
                    period_end=end,
                    currency=currency,
                    invoiced=round_money(invoiced, currency),
                    credited=round_money(credited, currency),
                    collected=round_money(collected, currency),
                    outstanding=round_money(outstanding[currency], currency),
                )
            )
    return periods


def period_start(day: date, group: str) -> date:
    """The first day of the month, quarter or year holding `day` (SQL's date_trunc)."""
    if group == "year":
        return date(day.year, 1, 1)
    month = day.month if group == "month" else 3 * ((day.month - 1) // 3) + 1
    return date(day.year, month, 1)


def period_bounds(start: date, end: date, group: str) -> list[tuple[date, date, str]]:
    """The periods from `start` to `end`, each clipped to them, with their labels."""
    bounds = []
    first = period_start(start, group)
    while first <= end:
        following = _next_period(first, group)
        bounds.append(
            (max(first, start), min(following - timedelta(days=1), end), _label(first, group))
        )
        first = following
    return bounds


def _next_period(first: date, group: str) -> date:
    months = {"month": 1, "quarter": 3, "year": 12}[group]
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _label(first: date, group: str) -> str:
    if group == "year":
        return str(first.year)
    if group == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    return f"{first.year}-{first.month:02d}"
