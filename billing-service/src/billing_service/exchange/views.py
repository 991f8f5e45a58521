"""An export's cells as the API shows the same values: money rounded to the currency's minor
units (invoices, payments), rates and prices with at least two decimals, stock as it is.
Cells stay numbers (Decimal), never text, so a negative amount is not mistaken for a formula
(platform.csv_output neutralises text only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from pydantic import Field

from billing_service.platform.csv_output import Cell
from billing_service.platform.money import round_money
from billing_service.platform.views import decimal_str
from shared.models import View

Format = Callable[[Any, Any], Cell]  # (value, the whole record) -> cell


def _money(value: Decimal | None, record: Any) -> Cell:
    return None if value is None else round_money(value, record["currency"])


def _amount(value: Decimal | None, _: Any) -> Cell:
    shown = decimal_str(value)
    return None if shown is None else Decimal(shown)


def _quantity(value: Decimal | None, _: Any) -> Cell:
    return None if value is None else Decimal(format(value.normalize(), "f"))


# Each export's columns, in order (the header row; repositories.EXPORTS selects them).
EXPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "invoices": (
        "id", "invoice_number", "type", "status", "issue_date", "due_date", "currency",
        "customer_id", "customer_name", "customer_email", "subject", "subtotal", "tax",
        "total", "amount_paid", "amount_credited", "balance_due", "credited_invoice_id",
        "approved_at", "sent_at", "paid_at", "cancelled_at", "created_at",
    ),
    "payments": (
        "id", "paid_date", "invoice_id", "invoice_number", "customer_id", "customer_name",
        "currency", "amount", "amount_refunded", "payment_method", "reference",
        "received_payment_id", "created_at",
    ),
    "customers": (
        "id", "company_name", "contact_name", "email", "phone", "description",
        "company_tax_number", "company_registration_number", "vat_id", "peppol_id",
        "buyer_reference", "company_address", "address_line1", "address_line2", "city",
        "postcode", "country_code", "currency", "tax_rate", "default_hour_rate", "created_at",
    ),
    "products": (
        "id", "type", "name", "description", "sku", "price", "unit", "tax_rate", "active",
        "stock_quantity", "created_at",
    ),
}  # fmt: skip
_INVOICE_MONEY = ("subtotal", "tax", "total", "amount_paid", "amount_credited", "balance_due")
FORMATS: dict[str, dict[str, Format]] = {
    "invoices": dict.fromkeys(_INVOICE_MONEY, _money),
    "payments": dict.fromkeys(("amount", "amount_refunded"), _money),
    "customers": dict.fromkeys(("tax_rate", "default_hour_rate"), _amount),
    "products": {"price": _amount, "tax_rate": _amount, "stock_quantity": _quantity},
}


def row_cells(kind: str, columns: Sequence[str]) -> Callable[[Any], list[Cell]]:
    """The function making one record's cells, for the columns of this export."""
    fixes = [(i, FORMATS[kind][name]) for i, name in enumerate(columns) if name in FORMATS[kind]]

    def cells(record: Any) -> list[Cell]:
        values: list[Cell] = list(record)
        for index, shown in fixes:
            values[index] = shown(values[index], record)
        return values

    return cells


def filename(kind: str, company_id: int, stamp: str) -> str:
    return f"{kind}-company-{company_id}-{stamp}.csv"


class ImportView(View):
    """What an import created (or, on a dry run, would create)."""

    kind: str = Field(description="`customers` or `products`")
    dry_run: bool
    rows: int = Field(description="Rows read, every one valid")
    created: int = Field(description="Records created: 0 on a dry run")
    ids: list[int] = Field(description="The created records' ids, in the file's order")
    ignored_columns: list[str] = Field(description="Columns of the file no field takes")
