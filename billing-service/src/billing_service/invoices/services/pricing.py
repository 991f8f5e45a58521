"""An invoice's lines priced and its totals summed (the math is `money`'s): pure, no I/O.

VAT is rounded once per VAT category and rate of the invoice (EN 16931 BR-CO-17): each line
is first priced alone (its checks, its net), then the included lines of each (category, rate)
share the group's rounded tax (`money.group_amounts`). Lines are priced only when a create or
an edit sends them, so an invoice stored before keeps its per-line figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing_service.einvoice.model import vat_category_of
from billing_service.platform.money import (
    LineAmounts,
    LineInput,
    after_discount,
    group_amounts,
    line_amounts,
    totals,
)
from shared.errors import ValidationFailed

MAX_TOTAL = Decimal("1e13")  # far inside numeric(18, 4), so sums never overflow


def price_items(
    items: list[dict[str, Any]], currency: str, default_tax: Decimal
) -> list[dict[str, Any]]:
    """Each line as stored: its input, position and amounts. A line without its own tax rate
    takes `default_tax` (the invoicer's)."""
    priced = [_priced(position, item, currency, default_tax) for position, item in enumerate(items)]
    return _tax_rounded_per_category([line for line, _ in priced], [p for _, p in priced], currency)


def _tax_rounded_per_category(
    lines: list[LineInput], priced: list[dict[str, Any]], currency: str
) -> list[dict[str, Any]]:
    """The priced lines with each included (category, rate) group's tax rounded once."""
    groups: dict[tuple[str, Decimal], list[int]] = {}
    for index, (line, item) in enumerate(zip(lines, priced, strict=True)):
        if line.include:
            category = vat_category_of(item["vat_category"], line.tax_percentage)
            groups.setdefault((category, line.tax_percentage.normalize()), []).append(index)
    for indexes in groups.values():
        shared = group_amounts([lines[index] for index in indexes], currency)
        for index, amounts in zip(indexes, shared, strict=True):
            priced[index] |= {
                "net": amounts.net,
                "tax_amount": amounts.tax,
                "total": amounts.total,
            }
    return priced


def _priced(
    position: int, item: dict[str, Any], currency: str, default_tax: Decimal
) -> tuple[LineInput, dict[str, Any]]:
    tax = item.get("tax_percentage")
    if tax is None and item.get("vat_category") not in (None, "S"):
        tax = Decimal(0)  # a line that bears no VAT does not take the invoicer's rate
    line = LineInput(
        quantity=item["quantity"],
        price=item["price"],
        tax_percentage=default_tax if tax is None else tax,
        discount=item.get("discount") or Decimal(0),
        discount_percentage=item.get("discount_percentage", False),
        price_includes_tax=item.get("price_includes_tax", False),
        price_includes_discount=item.get("price_includes_discount", False),
        include=item.get("include", True),
    )
    if line.discount_percentage and line.discount > 100:
        raise ValidationFailed.field(
            f"items.{position}.discount", "A percentage discount must not exceed 100."
        )
    check_vat_category(position, item, line.tax_percentage)
    amounts = line_amounts(line, currency)
    # Unrounded: a gross a discount takes below zero by less than half a minor unit rounds to
    # zero on its own line but to minus one unit in its VAT group's sum (BR-CO-17).
    if after_discount(line) < 0:
        raise ValidationFailed.field(
            f"items.{position}.discount", "The discount must not exceed the line amount."
        )
    return line, {
        "position": position,
        "label": item["label"],
        "unit": item.get("unit", "service"),
        "quantity": line.quantity,
        "price": line.price,
        "tax_percentage": line.tax_percentage,
        "discount_percentage": line.discount_percentage,
        "discount": line.discount,
        "price_includes_tax": line.price_includes_tax,
        "price_includes_discount": line.price_includes_discount,
        "include": line.include,
        "product_id": item.get("product_id"),
        "net": amounts.net,
        "tax_amount": amounts.tax,
        "total": amounts.total,
        "vat_category": item.get("vat_category"),
        "vat_exemption_reason": item.get("vat_exemption_reason"),
        "unit_code": item.get("unit_code"),
    }


def check_vat_category(position: int, item: dict[str, Any], rate: Decimal) -> None:
    """EN 16931's rules on a line's rate (the invoicer's default counts): S has one above
    zero (BR-S-05), every other category 0 (BR-Z-05, BR-E-05, ...). Its exemption reason is
    checked with the request (schemas.invoices.ItemIn)."""
    category = vat_category_of(item.get("vat_category"), rate)
    reason = item.get("vat_exemption_reason")
    if (category == "S") != (rate > 0):
        needed = "above 0" if category == "S" else "0"
        raise ValidationFailed.field(
            f"items.{position}.tax_percentage",
            f"A line of VAT category {category} needs a tax percentage of {needed}.",
        )
    if category in ("S", "Z") and reason:
        raise ValidationFailed.field(
            f"items.{position}.vat_exemption_reason",
            f"A line of VAT category {category} has no exemption reason.",
        )


def invoice_totals(items: list[dict[str, Any]]) -> dict[str, Decimal]:
    """The invoice's subtotal, tax and total from its priced lines (excluded ones left out);
    422 on `items` past MAX_TOTAL."""
    sums = totals(
        [
            (
                LineInput(Decimal(1), Decimal(0), Decimal(0), include=item["include"]),
                LineAmounts(item["net"], item["tax_amount"]),
            )
            for item in items
        ]
    )
    if sums.total > MAX_TOTAL:
        raise ValidationFailed.field("items", "The invoice total is too large.")
    return {"subtotal": sums.subtotal, "tax": sums.tax, "total": sums.total}
