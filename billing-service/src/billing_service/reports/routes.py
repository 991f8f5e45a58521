"""Operations of the reports: ageing of receivables, VAT, revenue; JSON, or CSV when asked."""

from __future__ import annotations

from billing_service.invoices.routes import V1
from billing_service.reports import handlers
from billing_service.reports.schemas import AgingQuery, RevenueQuery, TaxQuery
from billing_service.reports.views import AgingReport, RevenueReport, TaxReport
from shared.contract import Content, Data, Operation, requires

REPORTS = f"{V1}/reports"
ACCESS = requires("reports:read", note="Owners and admins only.")
CSV = (
    "With `Accept: text/csv` or `?format=csv`, the same figures as CSV (RFC 4180, UTF-8, a "
    "header row; columns in docs/api.md)."
)


def _answer(model: type, what: str) -> Content:
    return Content("text/csv", f"{what} as CSV", json=Data(model))


def operations() -> list[Operation]:
    return [
        Operation(
            "GET",
            f"{REPORTS}/aging",
            handlers.aging,
            ACCESS,
            "Aged receivables by customer",
            "Reports",
            "aging_report",
            _answer(AgingReport, "The ageing report"),
            query=AgingQuery,
            errors=(403,),
            response_headers=("Content-Disposition",),
            description="What each customer owed at the end of `as_of` (default today), per "
            "currency, in the buckets current, days_1_30, days_31_60, days_61_90, over_90 "
            "(days past the due date), with totals: issued invoices less the payments, "
            "refunds and credit notes dated by then. " + CSV,
        ),
        Operation(
            "GET",
            f"{REPORTS}/tax",
            handlers.tax,
            ACCESS,
            "VAT by rate and category",
            "Reports",
            "tax_report",
            _answer(TaxReport, "The tax report"),
            query=TaxQuery,
            errors=(403,),
            response_headers=("Content-Disposition",),
            description="Per currency, VAT category and rate, the taxable amount and VAT of "
            "the invoices issued from `from` to `to` less the credit notes issued then "
            "(`basis=accrual`), or of the money received less money given back then, as a "
            "share of each invoice's VAT groups (`basis=cash`). At most 366 days. " + CSV,
        ),
        Operation(
            "GET",
            f"{REPORTS}/revenue",
            handlers.revenue,
            ACCESS,
            "Revenue by period",
            "Reports",
            "revenue_report",
            _answer(RevenueReport, "The revenue report"),
            query=RevenueQuery,
            errors=(403,),
            response_headers=("Content-Disposition",),
            description="Per month, quarter or year and currency: invoiced, credited, "
            "collected, and outstanding at the period's end. At most 3653 days. " + CSV,
        ),
    ]
