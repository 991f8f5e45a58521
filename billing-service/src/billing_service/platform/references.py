"""The errors for a record a body or query names that the caller may not use (docs/api.md): another
tenant's is 403 COMPANY_ACCESS_DENIED, an id that exists nowhere a 422 on the field. Kept apart
from `base` so that every service module can use them without import cycles."""

from __future__ import annotations

from shared.errors import CompanyAccessDenied, ValidationFailed

# What each table a body or query may name holds, for messages.
NOUNS = {
    "companies": "company",
    "organisations": "organisation",
    "invoicers": "invoicer",
    "payment_details": "payment detail",
    "recipients": "recipient",
    "products": "product",
    "invoices": "invoice",
}


def denied_reference(table: str, field: str) -> CompanyAccessDenied:
    message = (
        "You are not a member of this company."
        if table == "companies"
        else f"The {NOUNS[table]} belongs to a company you are not a member of."
    )
    return CompanyAccessDenied(message, errors={field: [message]})


def invalid_reference(field: str) -> ValidationFailed:
    label = field.replace("_", " ")
    return ValidationFailed.field(field, f"The selected {label} is invalid.")
