"""The scheduling routes: POST /invoices/{id}/create-next (an invoice action by its path, a
recurring template's next period by its rule)."""

from __future__ import annotations

from billing_service.invoices.routes import action
from billing_service.scheduling import handlers
from shared.contract import Operation


def operations() -> list[Operation]:
    return [
        action(
            "create-next",
            handlers.create_next,
            "create",
            "Generate a recurring template's next period now",
            "create_next_invoice",
            status=201,
            headers=(),
            errors=(403, 409, 429),
            description="An auto-send template's child is sent at once: that needs "
            "`invoices:send` and counts against the e-mail quotas (429).",
        ),
    ]
