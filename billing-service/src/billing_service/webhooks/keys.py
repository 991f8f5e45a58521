"""The typed application keys of the webhooks services."""

from __future__ import annotations

from aiohttp import web

from billing_service.webhooks.http import WebhookHttp
from billing_service.webhooks.services.delivery import WebhookDelivery
from billing_service.webhooks.services.endpoints import EventQueries, WebhookService

WEBHOOKS = web.AppKey("webhooks", WebhookService)
EVENT_QUERIES = web.AppKey("event_queries", EventQueries)  # the event log, read
WEBHOOK_HTTP = web.AppKey("webhook_http", WebhookHttp)  # the guarded session of deliveries
WEBHOOK_DELIVERY = web.AppKey("webhook_delivery", WebhookDelivery)
