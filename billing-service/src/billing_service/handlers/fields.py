"""Field types shared by billing's request bodies."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from billing_service.money import is_currency

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _DATE.match(value):
        raise ValueError("must be a valid date (YYYY-MM-DD)")
    if not isinstance(value, str | date):
        raise ValueError("must be a valid date (YYYY-MM-DD)")
    return value


def _currency(value: str) -> str:
    code = value.upper()
    if not is_currency(code):
        raise ValueError("must be an ISO 4217 currency code")
    return code


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a number")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Currency = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_currency)]
Text = Annotated[str, Field(max_length=255)]
LongText = Annotated[str, Field(max_length=10_000)]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
# Four decimal places at most: what the numeric columns keep, so the stored value is the one
# the line math used.
Money = Annotated[
    Decimal, Field(ge=0, le=Decimal("999999999999"), decimal_places=4), AfterValidator(_finite)
]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=4), AfterValidator(_finite)]
Quantity = Annotated[
    Decimal, Field(ge=Decimal("0.01"), le=9999, decimal_places=4), AfterValidator(_finite)
]
