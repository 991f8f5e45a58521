"""Operations of automatic reminders: a company's reminder steps."""

from __future__ import annotations

from billing_service.dunning import handlers
from billing_service.dunning.schemas import ReminderSettingsBody
from billing_service.dunning.views import ReminderSettingsView
from shared.contract import Data, Operation, requires

REMINDERS = "/api/v1/companies/{id}/reminders"
RULES = (
    "Each step is sent once per invoice on the company-local date due date + `days`, to the "
    "addresses a send reaches, while the invoice is issued, unpaid and neither it nor its "
    "customer has `reminders_paused`. An invoice past several steps gets only the latest. "
    "A `late_fee` is added once per step as a line; `extend_due_days` moves the due date."
)


def operations() -> list[Operation]:
    return [
        Operation(
            "GET",
            REMINDERS,
            handlers.get_reminders,
            requires("companies:read"),
            "Get the company's automatic reminders",
            "Reminders",
            "get_reminders",
            Data(ReminderSettingsView),
            description="Off, with no steps, until set. " + RULES,
        ),
        Operation(
            "PUT",
            REMINDERS,
            handlers.put_reminders,
            requires("companies:update"),
            "Set the company's automatic reminders",
            "Reminders",
            "put_reminders",
            Data(ReminderSettingsView),
            body=ReminderSettingsBody,
            errors=(403, 422),
            description="Replaces the settings whole (owners and admins). At most 10 steps, "
            "`days` strictly increasing (422 on `steps.N.days`), `repeat_every_days` on the "
            "last step only. " + RULES,
        ),
    ]
