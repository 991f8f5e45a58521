"""The rules of reminder steps, pure: the steps as stored, their checks across steps, which
reminder (step and repeat) an invoice is due for on a day, and a step's late fee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from billing_service.dunning.schemas import StepIn
from billing_service.platform.money import round_money
from shared.errors import ValidationFailed

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LateFee:
    percent: Decimal | None = None  # of the balance owed when the step is sent
    amount: Decimal | None = None  # in the invoice's currency

    def on(self, balance: Decimal, currency: str) -> Decimal:
        """The fee on an invoice owing `balance`, in the currency's minor units."""
        if self.percent is not None:
            return round_money(balance * self.percent / HUNDRED, currency)
        assert self.amount is not None
        return round_money(self.amount, currency)


@dataclass(frozen=True)
class Step:
    days: int
    template: str
    late_fee: LateFee | None = None
    repeat_every_days: int | None = None
    extend_due_days: int | None = None

    def stored(self) -> dict[str, Any]:
        """As the API answers it and the settings row keeps it (decimals as strings)."""
        fee = None
        if self.late_fee is not None:
            fee = {
                name: str(value)
                for name, value in (
                    ("percent", self.late_fee.percent),
                    ("amount", self.late_fee.amount),
                )
                if value is not None
            }
        return {
            "days": self.days,
            "template": self.template,
            "late_fee": fee,
            "repeat_every_days": self.repeat_every_days,
            "extend_due_days": self.extend_due_days,
        }

    @classmethod
    def from_stored(cls, row: dict[str, Any]) -> Step:
        fee = row.get("late_fee")
        late_fee = None
        if fee:
            late_fee = LateFee(
                Decimal(fee["percent"]) if "percent" in fee else None,
                Decimal(fee["amount"]) if "amount" in fee else None,
            )
        return cls(
            int(row["days"]),
            str(row["template"]),
            late_fee,
            row.get("repeat_every_days"),
            row.get("extend_due_days"),
        )


def default_template(days: int) -> str:
    """Before the due date a friendly reminder, on it "due today", after it "overdue"."""
    if days < 0:
        return "invoice-reminder"
    return "invoice-due" if days == 0 else "invoice-due-reminder"


def checked_steps(steps: list[StepIn]) -> list[Step]:
    """The steps of a PUT, each with its template; 422 naming the field when the days do not
    strictly increase or a step other than the last repeats."""
    for position, step in enumerate(steps):
        if position > 0 and step.days <= steps[position - 1].days:
            raise ValidationFailed.field(
                f"steps.{position}.days",
                f"The days must be greater than the previous step's ({steps[position - 1].days}).",
            )
        if step.repeat_every_days is not None and position != len(steps) - 1:
            raise ValidationFailed.field(
                f"steps.{position}.repeat_every_days", "Only the last step may repeat."
            )
    return [
        Step(
            step.days,
            step.template or default_template(step.days),
            LateFee(step.late_fee.percent, step.late_fee.amount) if step.late_fee else None,
            step.repeat_every_days,
            step.extend_due_days,
        )
        for step in steps
    ]


@dataclass(frozen=True)
class Sent:
    """The latest reminder an invoice was sent."""

    step: int  # from 1
    repeat: int
    sent_on: date


@dataclass(frozen=True)
class Due:
    """The reminder an invoice is due for: its step (from 1) and repeat (0: the step)."""

    step: int
    repeat: int

    def of(self, steps: list[Step]) -> Step:
        return steps[self.step - 1]


def due_reminder(steps: list[Step], due_date: date, today: date, last: Sent | None) -> Due | None:
    """The reminder to send today, if any. Only steps after the last one sent count, and of
    those only the latest whose day (due date + days) has come: an invoice already past
    several steps (reminders just switched on, a reminder that waited) gets one reminder, not
    a burst. The last step repeats `repeat_every_days` after it was last sent."""
    start = 0 if last is None else last.step  # index of the step after the last one sent
    if last is not None and last.step >= len(steps):
        final = steps[-1] if last.step == len(steps) and steps else None
        if final is None or final.repeat_every_days is None:
            return None
        if last.sent_on + timedelta(days=final.repeat_every_days) > today:
            return None
        return Due(last.step, last.repeat + 1)
    passed = [
        index
        for index in range(start, len(steps))
        if due_date + timedelta(steps[index].days) <= today
    ]
    return Due(passed[-1] + 1, 0) if passed else None


def extended_due_date(step: Step, due_date: date, today: date) -> date:
    """A step that extends moves the due date to its days after the later of the due date and
    today (a reminder gives the customer that long from the day it is sent)."""
    assert step.extend_due_days is not None
    return max(due_date, today) + timedelta(days=step.extend_due_days)
