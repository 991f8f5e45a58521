"""Request models of exports and imports, and the column names an import understands: the
export's own, and the common ones of other tools' exports (docs/api.md, "Export and import")."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator

from billing_service.platform.fields import Id
from shared.errors import ValidationFailed
from shared.fields import IsoDate
from shared.models import Body

ExportKind = Literal["invoices", "payments", "customers", "products"]
ImportKind = Literal["customers", "products"]


class ExportQuery(Body):
    company_id: Id | None = Field(
        default=None, description="The company exported; default: the current one"
    )
    date_from: IsoDate | None = Field(
        default=None,
        validation_alias=AliasChoices("from", "date_from"),
        description="First day included (issue date, payment date, or day created)",
    )
    date_to: IsoDate | None = Field(
        default=None,
        validation_alias=AliasChoices("to", "date_to"),
        description="Last day included",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ExportQuery:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValidationFailed.field(
                "to", "The to field must be a date after or equal to from."
            )
        return self


class ImportQuery(Body):
    company_id: Id | None = Field(
        default=None, description="The company imported into; default: the current one"
    )
    dry_run: bool = Field(default=False, description="Only validate: nothing is written")


def _aliases(**names: tuple[str, ...]) -> dict[str, str]:
    """Normalised column name -> field: each field under its own name and its aliases (two
    fields never share a name: that would be a mistake in the table below)."""
    columns: dict[str, str] = {}
    for field, aliases in names.items():
        for alias in (field, *aliases):
            key = column_key(alias)
            if columns.setdefault(key, field) != field:
                raise ValueError(f"column {alias!r} names both {columns[key]} and {field}")
    return columns


def column_key(header: str) -> str:
    """A header as it is matched: case, spaces, dashes, dots, slashes and underscores aside
    (`Company Name`, `company_name` and `company-name` are one)."""
    return "".join(ch for ch in header.casefold() if ch.isalnum())


# Invoice Ninja (client_*, address1, vat_number, id_number), Stripe's customer export (Name,
# Email, Address Line1, Address City, Tax ID), QuickBooks (Display Name, Company, Main Email,
# Billing Address ...) and Xero (ContactName, EmailAddress, POAddressLine1, TaxNumber).
CUSTOMER_COLUMNS = _aliases(
    company_name=(
        "company_entity",
        "name",
        "client_name",
        "customer_name",
        "company",
        "customer",
        "display_name",
        "organization",
        "organisation",
    ),
    contact_name=("contact", "primary_contact", "client_contact", "contact_person"),
    email=("email_address", "contact_email", "client_email", "main_email"),
    phone=("phone_number", "work_phone", "contact_phone", "client_phone"),
    description=("notes", "private_notes", "public_notes"),
    company_tax_number=("tax_number", "tax_id"),
    company_registration_number=("id_number", "registration_number", "company_number"),
    vat_id=("vat_number", "vat", "vat_registration_number"),
    peppol_id=("electronic_address",),
    buyer_reference=("leitweg_id",),
    company_address=("address",),
    address_line1=(
        "address1",
        "street",
        "POAddressLine1",
        "billing_address_line1",
        "billing_street",
    ),
    address_line2=("address2", "POAddressLine2", "billing_address_line2"),
    city=("town", "POCity", "address_city", "billing_city", "billing_address_city"),
    postcode=(
        "postal_code",
        "zip",
        "zip_code",
        "POPostalCode",
        "address_postal_code",
        "billing_zip",
        "billing_address_postal_code",
    ),
    country_code=("country", "POCountry", "address_country", "billing_country"),
    currency=("currency_code", "default_currency"),
    tax_rate=("tax_rate1", "default_tax_rate"),
    default_hour_rate=("hourly_rate", "task_rate"),
)
# Invoice Ninja (product_key, notes, cost/price, tax_rate1, quantity), Stripe's product
# export (Name, Description, Price), QuickBooks (Product/Service Name, Sales Description,
# Sales Price / Rate, SKU, Quantity On Hand) and Xero (ItemName, ItemCode, SalesDescription,
# SalesUnitPrice).
PRODUCT_COLUMNS = _aliases(
    name=("product_key", "product_name", "product", "item_name", "Product/Service Name"),
    description=("notes", "sales_description", "SalesDescription", "long_description"),
    sku=("ItemCode", "item_code", "product_code", "code"),
    price=("unit_price", "SalesUnitPrice", "Sales Price / Rate", "rate", "amount"),
    unit=("unit_of_measure", "uom"),
    tax_rate=("tax_rate1", "tax", "tax_percent", "vat_rate"),
    type=("product_type", "item_type"),
    active=("is_active", "enabled"),
    stock_quantity=("in_stock_quantity", "quantity", "quantity_on_hand", "stock"),
)
# Columns an export writes that an import does not read (the record's own id and times).
READ_ONLY_COLUMNS = frozenset(column_key(name) for name in ("id", "created_at", "updated_at"))
