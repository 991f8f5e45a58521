"""Query parameters of the reports."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from billing_service.platform.fields import Currency, Id
from shared.fields import IsoDate
from shared.models import Body


class ReportQuery(Body):
    company_id: Id | None = Field(
        default=None, description="Default: the caller's current company (or their only one)"
    )
    currency: Currency | None = Field(default=None, description="Only this currency")
    format: Literal["json", "csv"] | None = Field(
        default=None, description="`csv`: the same as `Accept: text/csv`"
    )


class AgingQuery(ReportQuery):
    as_of: IsoDate | None = Field(
        default=None, description="What was owed at the end of this day; default today"
    )


class PeriodQuery(ReportQuery):
    from_: IsoDate = Field(alias="from", description="First day, inclusive")
    to: IsoDate = Field(description="Last day, inclusive")


class TaxQuery(PeriodQuery):
    basis: Literal["accrual", "cash"] = Field(
        default="accrual",
        description="`accrual`: by issue date; `cash`: by the date money moved",
    )


class RevenueQuery(PeriodQuery):
    group: Literal["month", "quarter", "year"] = "month"
