"""Request bodies and list filters of recipients and InvoiceFlow's customers (InvoisX's
buyers are the same records under the customers' names)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from billing_service.einvoice.fields import Reference
from billing_service.parties.schemas.resources import CompanyFilter, PartyUpdate, Phone, Search
from billing_service.platform.fields import Id, Money, Text
from shared.fields import Email


class RecipientUpdate(PartyUpdate):
    not_null: ClassVar[frozenset[str]] = PartyUpdate.not_null | {"reminders_paused"}

    organisation_id: Id | None = None
    contact_name: Text | None = None
    email: Email | None = None
    phone: Phone | None = None
    default_hour_rate: Money | None = None
    buyer_reference: Reference | None = Field(
        default=None,
        description="The default of its invoices' `buyer_reference` (XRechnung's Leitweg-ID)",
    )
    reminders_paused: bool | None = Field(
        default=None, description="No automatic reminder of any of its invoices while true"
    )


class RecipientCreate(RecipientUpdate):
    organisation_id: Id
    company_entity: Text = Field(min_length=1)


class CustomerUpdate(RecipientUpdate):
    """InvoiceFlow's name of company_entity is company_name."""

    not_null: ClassVar[frozenset[str]] = RecipientUpdate.not_null | {"company_name"}

    company_name: Text | None = Field(default=None, min_length=1)

    def changes(self, *exclude: str) -> dict[str, Any]:
        values = super().changes("company_name", *exclude)
        if self.company_name is not None:
            values["company_entity"] = self.company_name
        return values


class CustomerCreate(CustomerUpdate):
    # Without an organisation, `company_id` names the company whose default organisation
    # holds the customer.
    company_name: Text = Field(min_length=1)


class RecipientFilter(CompanyFilter):
    organisation_id: Id | None = None
    search: Search | None = None
