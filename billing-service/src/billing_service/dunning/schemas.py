"""The request body of PUT /companies/{id}/reminders. Field bounds are checked here; the
rules between steps (increasing days, a repeat only on the last) by services.steps, so each
refusal names its field (`steps.2.days`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from billing_service.platform.fields import Money, Percent
from shared.models import Body

MAX_STEPS = 10
MIN_DAYS, MAX_DAYS = -365, 3650  # a year before the due date, ten years after
MAX_EXTENSION = 365
# The send templates that speak of one invoice to its customer (lifecycle.SEND_TEMPLATES).
ReminderTemplate = Literal[
    "invoice-reminder", "invoice-due", "invoice-due-reminder", "invoice-issued"
]

# Half the balance owed is already far beyond what a court would call a reasonable fee.
MAX_FEE_PERCENT = 50
FeePercent = Annotated[Percent, Field(gt=0, le=MAX_FEE_PERCENT)]
FeeAmount = Annotated[Money, Field(gt=0, le=Decimal("1000000000"))]


class LateFeeIn(Body):
    """Either a percentage of the balance owed when the step is sent, or a fixed amount in the
    invoice's currency."""

    percent: FeePercent | None = None
    amount: FeeAmount | None = None

    @model_validator(mode="after")
    def _one_of(self) -> LateFeeIn:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("Give either percent or amount.")
        return self


class StepIn(Body):
    days: Annotated[int, Field(ge=MIN_DAYS, le=MAX_DAYS)] = Field(
        description="Days after the due date (negative: before it), in the company's timezone"
    )
    template: ReminderTemplate | None = Field(
        default=None,
        description="The e-mail; by default invoice-reminder before the due date, "
        "invoice-due on it, invoice-due-reminder after it",
    )
    late_fee: LateFeeIn | None = None
    repeat_every_days: Annotated[int, Field(ge=1, le=MAX_EXTENSION)] | None = Field(
        default=None, description="The last step only: sent again every this many days"
    )
    extend_due_days: Annotated[int, Field(ge=1, le=MAX_EXTENSION)] | None = Field(
        default=None,
        description="When sent, the due date moves to this many days after the later of "
        "the due date and the day of sending",
    )


class ReminderSettingsBody(Body):
    """A PUT replaces the whole settings: both fields are required (an empty body must not
    wipe them)."""

    enabled: bool
    steps: Annotated[list[StepIn], Field(max_length=MAX_STEPS)]
