"""The answers of the webhooks API: endpoints (their secret only in the two answers that make
one), delivery attempts, events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from billing_service.platform.views import Record, RowView
from shared.models import View


class WebhookView(Record):
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why the platform disabled the endpoint (five days of failures)."
    )
    failing_since: datetime | None = Field(
        description="Since when every attempt has failed; null after any success."
    )


class WebhookWithSecretView(WebhookView):
    """Shown once, on create and on rotate-secret: the receiver verifies signatures with it."""

    secret: str = Field(description="`whsec_` + base64 of 32 random bytes; not shown again.")


class WebhookTestView(View):
    event_id: str
    delivery_id: int


class AttemptView(RowView):
    id: int
    delivery_id: int
    event_id: str
    event_type: str
    attempt: int
    status_code: int | None = Field(description="The receiver's answer; null when none came.")
    duration_ms: int
    error: str | None
    next_attempt_at: datetime | None = Field(description="Null: no retry follows this attempt.")
    redelivery: bool = Field(description="This attempt was asked for by a redelivery.")
    created_at: datetime


class EventView(RowView):
    id: str
    type: str
    timestamp: datetime = Field(validation_alias="created_at")
    data: dict[str, Any]
    company_id: int
