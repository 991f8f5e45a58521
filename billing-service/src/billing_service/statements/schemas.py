"""Request models of customer statements."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from billing_service.platform.fields import Currency, LongText
from shared.fields import IsoDate
from shared.models import Body

MAX_RANGE_DAYS = 366


class StatementQuery(Body):
    date_from: IsoDate | None = Field(
        default=None,
        validation_alias=AliasChoices("from", "date_from"),
        description="The first day. Default: 90 days before `to`. At most "
        f"{MAX_RANGE_DAYS} days before `to` (422 on `from`).",
    )
    date_to: IsoDate | None = Field(
        default=None,
        validation_alias=AliasChoices("to", "date_to"),
        description="The last day, the day owed amounts are aged on. Default: today in the "
        "company's timezone.",
    )
    currency: Currency | None = Field(
        default=None,
        description="Default: the company's currency, else the customer's. A currency the "
        "customer never used gives a statement of zeros.",
    )


class SendStatementBody(StatementQuery):
    custom_message: LongText | None = Field(default=None, description="Added to the e-mail")
