"""Field types shared by billing's request bodies (text and dates: shared.fields)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

from billing_service.platform.money import CURRENCIES, is_currency
from shared.fields import MultiLine, SingleLine


def _currency(value: str) -> str:
    code = value.upper()
    if not is_currency(code):
        raise ValueError("must be an ISO 4217 currency code")
    return code


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a number")
    return value


Currency = Annotated[
    str,
    Field(
        min_length=3,
        max_length=3,
        description="An ISO 4217 code (lower case is taken too)",
        json_schema_extra={"enum": sorted(CURRENCIES)},
    ),
    AfterValidator(_currency),
]
Text = Annotated[SingleLine, Field(max_length=255)]
LongText = Annotated[MultiLine, Field(max_length=10_000)]
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
# A URL-friendly name: lower-case words joined by single hyphens.
Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
