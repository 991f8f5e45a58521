"""Every typed application key of the gateway."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from gateway.batcher import ScriptBatcher
from gateway.clients import ClientAddresses
from gateway.guard import Guard
from gateway.introspection import Introspector
from gateway.limits import Limits
from gateway.proxy import Proxy
from gateway.redis_pipe import RedisPipe
from gateway.reference.cache import DocumentCache
from gateway.settings import Settings
from gateway.upstreams import Upstreams

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", RedisPipe)  # the guard's
SESSION = web.AppKey("session", aiohttp.ClientSession)
UPSTREAMS = web.AppKey("upstreams", Upstreams)
BATCHER = web.AppKey("batcher", ScriptBatcher)
GUARD = web.AppKey("guard", Guard)
INTROSPECTOR = web.AppKey("introspector", Introspector)
LIMITS = web.AppKey("limits", Limits)
PROXY = web.AppKey("proxy", Proxy)
DOCUMENTS = web.AppKey("documents", DocumentCache)  # the public OpenAPI document
CLIENTS = web.AppKey("clients", ClientAddresses)
