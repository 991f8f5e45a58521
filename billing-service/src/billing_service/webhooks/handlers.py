"""Webhooks and the event log: the handlers that the generic CRUD (handlers.crud) does not
cover. Every one takes the member scope first (client-portal users are refused); the service
checks the role in the record's company."""

from __future__ import annotations

import re

from aiohttp import web

from billing_service.platform.handlers import data, member_scope
from billing_service.platform.idempotency import replay_without_secret
from billing_service.platform.repositories.crud import Row
from billing_service.webhooks.keys import EVENT_QUERIES, WEBHOOKS
from billing_service.webhooks.schemas import DeliveryFilter, EventFilter, WebhookCreate
from billing_service.webhooks.services.endpoints import KeysetPage
from billing_service.webhooks.views import (
    AttemptView,
    EventView,
    WebhookTestView,
    WebhookView,
    WebhookWithSecretView,
)
from shared.contract import body_of, query_of
from shared.errors import NotFound
from shared.pagination import Page, paginated
from shared.validation import path_id
from shared.web import json_response

EVENT_ID = re.compile(r"evt_[0-9a-f]{24}")


def _with_secret(row: Row, secret: str, status: int) -> web.Response:
    """The secret is shown in this answer only: an Idempotency-Key replay shows the endpoint
    without it."""
    response = data(WebhookWithSecretView.of(row | {"secret": secret}), status=status)
    return replay_without_secret(response, {"data": WebhookView.of(row)})


async def create_webhook(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    body = await body_of(request, WebhookCreate)
    service = request.app[WEBHOOKS]
    row, secret = await service.create_with_secret(scope, body.company_id, body.changes())
    return _with_secret(row, secret, 201)


async def rotate_secret(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    row, secret = await request.app[WEBHOOKS].rotate_secret(scope, path_id(request))
    return _with_secret(row, secret, 200)


async def send_test(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    event_id, delivery_id = await request.app[WEBHOOKS].send_test(scope, path_id(request))
    return data(WebhookTestView(event_id=event_id, delivery_id=delivery_id), status=202)


async def list_deliveries(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    webhook_id = path_id(request)
    query = query_of(request, DeliveryFilter)
    page = await request.app[WEBHOOKS].attempts(scope, webhook_id, query)
    return _keyset_response(request, page, [AttemptView.of(row) for row in page.items])


async def redeliver(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    webhook_id, delivery_id = path_id(request), path_id(request, "delivery_id")
    await request.app[WEBHOOKS].redeliver(scope, webhook_id, delivery_id)
    return json_response({"message": "The delivery is queued to be sent again."}, status=202)


async def list_events(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    query = query_of(request, EventFilter)
    page = await request.app[EVENT_QUERIES].list(scope, query)
    return _keyset_response(request, page, [EventView.of(row) for row in page.items])


async def get_event(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    event_id = request.match_info["id"]
    if not EVENT_ID.fullmatch(event_id):
        raise NotFound()
    return data(EventView.of(await request.app[EVENT_QUERIES].get(scope, event_id)))


def _keyset_response(request: web.Request, page: KeysetPage, shown: list[object]) -> web.Response:
    payload = paginated(request, Page(shown, page.total, page.params))
    payload["meta"] |= {"next_cursor": page.next_cursor, "total_capped": page.total_capped}
    return json_response(payload)
