"""Request bodies of companies, their members, InvoiceFlow's teams and recipients' contacts."""

from __future__ import annotations

from types import EllipsisType
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from billing_service.einvoice.fields import EinvoiceFormat
from billing_service.platform.fields import Currency, Id, Slug, Text
from billing_service.platform.money import DEFAULT_CURRENCY
from billing_service.platform.recurrence import is_timezone
from shared.fields import Email
from shared.models import Body

Role = Literal["owner", "admin", "member"]


def _timezone(value: str) -> str:
    if not is_timezone(value):
        raise ValueError("must be an IANA timezone such as Europe/Berlin")
    return value


Timezone = Annotated[
    str,
    Field(
        max_length=64,
        pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$",
        description="An IANA timezone (tz database name), such as `Europe/Berlin`",
    ),
    AfterValidator(_timezone),
]


class CompanyCreate(Body):
    name: Text = Field(min_length=1)
    slug: Slug | None = None
    timezone: Timezone = "UTC"
    currency: Currency = DEFAULT_CURRENCY  # the last default of its invoices' currency
    einvoice_format: EinvoiceFormat | None = Field(
        default=None,
        description="The e-invoice `invoice-issued` e-mails attach instead of the plain PDF",
    )


class CompanyUpdate(Body):
    name: Text | None = Field(default=None, min_length=1)
    slug: Slug | None = None
    timezone: Timezone | None = None
    currency: Currency | None = None
    einvoice_format: EinvoiceFormat | None = Field(
        default=None, description="null: e-mails attach the plain PDF"
    )

    def einvoice_change(self) -> str | EllipsisType | None:
        """The new format, None to attach the plain PDF again, ... when not sent (kept)."""
        return self.einvoice_format if "einvoice_format" in self.model_fields_set else ...


class MemberAdd(Body):
    email: Email
    role: Role = "member"


class RoleChange(Body):
    role: Role


class TeamSwitch(Body):
    team_id: Id


class ContactInvite(Body):
    email: Email
    name: Text = Field(min_length=1)
    password: Annotated[str, Field(min_length=8, max_length=1024)] | None = None
