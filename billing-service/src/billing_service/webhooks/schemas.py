"""Request bodies and list filters of webhooks and the event log.

Whether a URL may be called (https outside development, no credentials, no internal IP
literal) depends on the settings: the service checks it with webhook_http.check_url."""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from billing_service.events.types import SUBSCRIBABLE
from billing_service.parties.schemas.resources import CompanyFilter, ResourceBody
from billing_service.webhooks.http import MAX_URL_LENGTH
from shared.fields import MultiLine, SingleLine, published
from shared.pagination import MAX_CURSOR_LENGTH, PageParams

MAX_SUBSCRIPTIONS = 100


def _url_shape(value: str) -> str:
    """What webhook_http.check_url (the service's check) leaves to the shape: no spaces, and
    a host that is a name or an address literal."""
    if any(character.isspace() for character in value):
        raise ValueError("must be a URL without spaces")
    host = urlsplit(value).hostname
    if host is not None and not _plausible_host(host):
        raise ValueError("must name a host by a DNS name or an IP address")
    return value


def _plausible_host(host: str) -> bool:
    """A DNS name, or an IP address literal. Numeric forms some clients read as addresses
    (`2130706433`, `0x7f.1`, `127.1`) are neither, and are refused: only the literal
    addresses the service checks may stand for an address."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(last) and not last.isdigit() and not last.lower().startswith("0x")


def _subscribable(value: str) -> str:
    if value not in SUBSCRIBABLE:
        raise ValueError("must be an event type, a family such as `invoice.*`, or `*`")
    return value


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


WebhookUrl = Annotated[
    SingleLine,
    Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        json_schema_extra=published(format="uri", pattern=r"^https?://[^\s/?#@]+(?:[/?#]\S*)?$"),
    ),
    AfterValidator(_url_shape),
]
Subscription = Annotated[
    str,
    Field(max_length=64, json_schema_extra={"enum": sorted(SUBSCRIBABLE)}),
    AfterValidator(_subscribable),
]
Subscriptions = Annotated[
    list[Subscription],
    Field(min_length=1, max_length=MAX_SUBSCRIPTIONS),
    AfterValidator(_distinct),
]
Description = Annotated[MultiLine, Field(max_length=500)]


class WebhookUpdate(ResourceBody):
    not_null: ClassVar[frozenset[str]] = frozenset({"url", "events", "enabled"})

    url: WebhookUrl | None = None
    events: Subscriptions | None = Field(
        default=None,
        description='Event types (`invoice.paid`), families (`invoice.*`), or `["*"]`.',
    )
    description: Description | None = None
    enabled: bool | None = Field(
        default=None,
        description="`true` re-enables an endpoint the platform disabled (its failure record "
        "is cleared).",
    )


class WebhookCreate(WebhookUpdate):
    url: WebhookUrl
    events: Subscriptions
    enabled: bool | None = True  # left out: the column's default, true


Cursor = Annotated[str, Field(max_length=MAX_CURSOR_LENGTH)]


class DeliveryFilter(PageParams):
    status: Literal["succeeded", "failed"] | None = Field(
        default=None, description="Attempts answered 2xx, or all the others."
    )
    cursor: Cursor | None = None


EventId = Annotated[str, Field(pattern=r"^evt_[0-9a-f]{24}$")]
EventTypeFilter = Annotated[
    str,
    Field(
        max_length=64,
        pattern=r"^[a-z_]+\.(\*|[a-z_]+)$",
        json_schema_extra={"enum": sorted(SUBSCRIBABLE - {"*"})},
    ),
    AfterValidator(_subscribable),
]


class EventFilter(CompanyFilter):
    type: EventTypeFilter | None = Field(
        default=None, description="One type (`invoice.paid`) or a family (`invoice.*`)."
    )
    since: EventId | None = Field(
        default=None, description="Only the events recorded after this one (an event id)."
    )
    cursor: Cursor | None = None
