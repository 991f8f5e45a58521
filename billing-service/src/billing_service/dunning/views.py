"""The answer of /companies/{id}/reminders."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from billing_service.dunning.repositories import Settings
from shared.models import View


class LateFeeView(View):
    percent: str | None = Field(default=None, description="Of the balance owed when sent")
    amount: str | None = Field(default=None, description="In the invoice's currency")


class StepView(View):
    days: int = Field(description="Days after the due date (negative: before it)")
    template: str
    late_fee: LateFeeView | None
    repeat_every_days: int | None
    extend_due_days: int | None


class ReminderSettingsView(View):
    enabled: bool
    steps: list[StepView]

    @classmethod
    def of(cls, settings: Settings) -> ReminderSettingsView:
        steps: list[Any] = settings.steps
        return cls.model_validate({"enabled": settings.enabled, "steps": steps})
