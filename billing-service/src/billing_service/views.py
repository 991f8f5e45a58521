"""Shaping rows into API answers: API field names, decimals as strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing_service.repositories.crud import Row

_CENT = Decimal("0.01")


def decimal_str(value: Decimal | None) -> str | None:
    """ "150.00" for 150, "0.125" keeps its digits; None stays None."""
    if value is None:
        return None
    if value == value.quantize(_CENT):
        return f"{value:.2f}"
    return format(value.normalize(), "f")


def _common(row: Row, *names: str) -> dict[str, Any]:
    view = {"id": row["id"], "company_id": row["company_id"]}
    view |= {name: row[name] for name in names}
    if "is_default" in row:
        view["default"] = row["is_default"]
    view |= {"created_at": row["created_at"], "updated_at": row["updated_at"]}
    return view


def organisation_view(row: Row) -> dict[str, Any]:
    return _common(row, "name", "slug")


def payment_detail_view(row: Row) -> dict[str, Any]:
    return _common(
        row, "invoicer_id", "label", "bank_name", "account_name", "account_number", "iban", "swift"
    )


def invoicer_view(row: Row, payment_details: list[Row] | None = None) -> dict[str, Any]:
    view = _common(
        row,
        "company_entity",
        "description",
        "company_tax_number",
        "company_registration_number",
        "company_address",
        "currency",
    )
    view["currency"] = (row["currency"] or "").strip() or None
    view["tax_rate"] = decimal_str(row["tax_rate"])
    if payment_details is not None:
        view["payment_details"] = [payment_detail_view(detail) for detail in payment_details]
    return view


def recipient_view(row: Row) -> dict[str, Any]:
    view = _common(
        row,
        "organisation_id",
        "company_entity",
        "contact_name",
        "email",
        "phone",
        "description",
        "company_tax_number",
        "company_registration_number",
        "company_address",
    )
    view["currency"] = (row["currency"] or "").strip() or None
    view["tax_rate"] = decimal_str(row["tax_rate"])
    view["default_hour_rate"] = decimal_str(row["default_hour_rate"])
    if "total_invoiced" in row:
        view["total_invoiced"] = decimal_str(row["total_invoiced"])
    return view


def customer_view(row: Row) -> dict[str, Any]:
    """InvoiceFlow's names for a recipient: company_name is company_entity."""
    view = recipient_view(row)
    view["company_name"] = view["company_entity"]
    return view


def product_view(row: Row) -> dict[str, Any]:
    view = _common(row, "type", "name", "description", "sku", "unit", "active")
    view["price"] = decimal_str(row["price"])
    view["tax_rate"] = decimal_str(row["tax_rate"])
    view["stock_quantity"] = (
        None if row["stock_quantity"] is None else format(row["stock_quantity"].normalize(), "f")
    )
    return view
