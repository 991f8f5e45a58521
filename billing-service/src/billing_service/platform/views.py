"""The answers' records: API field names, money and rates as decimal strings. Each model is
what the JSON holds (the OpenAPI document is generated from it); rows become views through
`of`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, PlainSerializer

from billing_service.platform.repositories.crud import Row
from shared.models import View

_CENT = Decimal("0.01")


def decimal_str(value: Decimal | None) -> str | None:
    """ "150.00" for 150, "0.125" keeps its digits; None stays None."""
    if value is None:
        return None
    if value == value.quantize(_CENT):
        return f"{value:.2f}"
    return format(value.normalize(), "f")


def _plain_number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _code(value: Any) -> Any:
    # A char(3) column: blank-padded, and empty means none.
    return (value or "").strip() or None


# Money and rates: at least two decimal places ("150.00", "0.125").
Amount = Annotated[Decimal, PlainSerializer(decimal_str, return_type=str)]
# Stock: as many decimal places as it has ("12", "0.5").
Quantity = Annotated[Decimal, PlainSerializer(_plain_number, return_type=str)]
CurrencyCode = Annotated[str | None, BeforeValidator(_code)]


class RowView(View):
    """A view of one database row, by the row's column names."""

    @classmethod
    def of(cls, row: Row) -> Self:
        return cls.model_validate(row)


class Record(RowView):
    """A company-owned record."""

    id: int
    company_id: int
    created_at: datetime
    updated_at: datetime
