"""Operations of webhooks (endpoints, their secret, test events, the delivery log,
redelivery) and of the event log. Owners and admins only, reads included."""

from __future__ import annotations

from dataclasses import replace

from billing_service.invoices.views.models import Message
from billing_service.parties.handlers.crud import Endpoint, Resource, crud_operations
from billing_service.parties.schemas.resources import CompanyFilter
from billing_service.webhooks import handlers as webhooks
from billing_service.webhooks.keys import WEBHOOKS
from billing_service.webhooks.schemas import (
    DeliveryFilter,
    EventFilter,
    WebhookCreate,
    WebhookUpdate,
)
from billing_service.webhooks.views import (
    AttemptView,
    EventView,
    WebhookTestView,
    WebhookView,
    WebhookWithSecretView,
)
from shared.contract import Data, Operation, Paged, Plain, requires

V1 = "/api/v1"
ONE = f"{V1}/webhooks/{{id}}"
TAG = "Webhooks"
MANAGERS_ONLY = "Owners and admins only."

WEBHOOK = Resource(
    f"{V1}/webhooks",
    TAG,
    "webhook",
    "webhooks",
    WEBHOOKS,
    WebhookCreate,
    WebhookUpdate,
    WebhookView,
    CompanyFilter,
)


def _endpoint_operations() -> list[Operation]:
    created = Endpoint(
        webhooks.create_webhook,
        Data(WebhookWithSecretView),
        "The answer shows the signing `secret`, this once. " + MANAGERS_ONLY,
    )
    operations = crud_operations(WEBHOOK, create=created)
    # Members read everything else in a company, but not its webhooks: refused, not empty.
    return [o if o.operation_id == "create_webhook" else _managers_only(o) for o in operations]


def _managers_only(operation: Operation) -> Operation:
    return replace(operation, description=(operation.description + " " + MANAGERS_ONLY).strip())


def _actions() -> list[Operation]:
    update, read = requires("webhooks:update"), requires("webhooks:read")
    return [
        Operation(
            "POST",
            f"{ONE}/rotate-secret",
            webhooks.rotate_secret,
            update,
            "Rotate a webhook's signing secret",
            TAG,
            "rotate_webhook_secret",
            Data(WebhookWithSecretView),
            errors=(403,),
            description="A new secret, shown this once. The previous one keeps signing for 24 "
            "hours (every request then carries both signatures). " + MANAGERS_ONLY,
        ),
        Operation(
            "POST",
            f"{ONE}/test",
            webhooks.send_test,
            update,
            "Send a test event to a webhook",
            TAG,
            "test_webhook",
            Data(WebhookTestView),
            status=202,
            errors=(403, 409),
            description="Records a `webhook.test` event delivered to this endpoint only, "
            "now. 409 while the webhook is disabled. " + MANAGERS_ONLY,
        ),
        Operation(
            "GET",
            f"{ONE}/deliveries",
            webhooks.list_deliveries,
            read,
            "List a webhook's delivery attempts",
            TAG,
            "list_webhook_deliveries",
            Paged(AttemptView, cursor=True),
            query=DeliveryFilter,
            errors=(400, 403),
            description="One row per attempt, newest first; a delivery shows up once it has "
            "been attempted. Offset pages or keyset pages (`cursor`: meta.next_cursor). "
            + MANAGERS_ONLY,
        ),
        Operation(
            "POST",
            f"{ONE}/deliveries/{{delivery_id}}/redeliver",
            webhooks.redeliver,
            update,
            "Redeliver a webhook delivery",
            TAG,
            "redeliver_webhook_delivery",
            Plain(Message),
            status=202,
            errors=(403, 409),
            description="`delivery_id` is a delivery log row's `delivery_id`. A delivery that "
            "succeeded or failed is sent again now, with a fresh retry schedule; its next "
            "attempt is marked `redelivery`. 409 while it is still pending or the webhook is "
            "disabled. " + MANAGERS_ONLY,
        ),
    ]


def _events() -> list[Operation]:
    read = requires("events:read")
    return [
        Operation(
            "GET",
            f"{V1}/events",
            webhooks.list_events,
            read,
            "List events",
            "Events",
            "list_events",
            Paged(EventView, cursor=True),
            query=EventFilter,
            errors=(400, 403),
            description="The companies' events of the last 30 days, newest first. Offset pages "
            "or keyset pages (`cursor`: meta.next_cursor). `since` (an event id) keeps only "
            "the later ones: a receiver that was down catches up. " + MANAGERS_ONLY,
        ),
        Operation(
            "GET",
            f"{V1}/events/{{id}}",
            webhooks.get_event,
            read,
            "Get an event",
            "Events",
            "get_event",
            Data(EventView),
            errors=(403,),
            path_types={"id": {"type": "string", "pattern": "^evt_[0-9a-f]{24}$"}},
            description=MANAGERS_ONLY,
        ),
    ]


def operations() -> list[Operation]:
    return [*_endpoint_operations(), *_actions(), *_events()]
