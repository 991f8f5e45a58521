"""Pricing of request lines: what a line may be, on the basis its VAT group sums."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing_service.invoices.services.pricing import price_items
from shared.errors import ValidationFailed


def line(**fields: object) -> dict[str, object]:
    return {"label": "Line", "quantity": Decimal(1), "price": Decimal(10), **fields}


@pytest.mark.parametrize("discount", ["10.50", "11.90", "10.01"])
def test_a_discount_past_the_line_is_refused_even_below_half_a_minor_unit(discount: str) -> None:
    """A tax-inclusive JPY line of 10 less 10.50 rounds to 0 net on its own, but its gross
    rounds to -1 in the group's sum: a negative line (found by the e-invoice property test)."""
    items = [
        line(price_includes_tax=True, discount=Decimal(discount), tax_percentage=Decimal(19)),
        line(price_includes_tax=True, tax_percentage=Decimal(19)),
    ]
    with pytest.raises(ValidationFailed) as refused:
        price_items(items, "JPY", Decimal(19))
    assert "items.0.discount" in str(refused.value.errors)


def test_a_discount_of_the_whole_line_leaves_a_zero_line() -> None:
    items = [line(price_includes_tax=True, discount=Decimal(10), tax_percentage=Decimal(19))]
    [priced] = price_items(items, "JPY", Decimal(19))
    assert (priced["net"], priced["tax_amount"]) == (Decimal(0), Decimal(0))
