"""The public document: the services' documents merged, plus only what the gateway owns -
the token scheme, the rate-limit headers and the answers the gateway itself gives (401, 429,
5xx, ...), the `/api` alias note, the servers, and its own routes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from gateway.reference import page
from gateway.reference.merge import Document, merge, referenced_schemas
from gateway.reference.tags import TAG_DESCRIPTIONS
from gateway.routes import LOCAL_PATHS
from shared.openapi import build_document

SCHEME = "bearer"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
_HEADER_REF = "#/components/headers/{name}"

# What shared.ratelimit.Decision.headers() sends.
RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "X-RateLimit-Limit": {
        "description": "Requests allowed per window by the policy closest to its limit",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in that policy's window",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "When the next request is admitted again, in Unix epoch seconds",
        "schema": {"type": "integer"},
    },
    "RateLimit-Policy": {
        "description": 'That policy (IETF draft): `"<name>";q=<limit>;w=<window seconds>`',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'Its state (IETF draft): `"<name>";r=<remaining>;t=<seconds to reset>`',
        "schema": {"type": "string"},
    },
}
RETRY_AFTER = {
    "description": "Seconds to wait before the next request is admitted",
    "schema": {"type": "integer", "minimum": 1},
}

# The answers the gateway gives by itself, whichever service owns the operation: described
# once, under components.responses.
GATEWAY_ERRORS = {
    400: ("BadPath", "The path is not canonical (a `.` or `..` segment, an encoded slash)"),
    401: ("Unauthenticated", "No valid token: missing, unknown, revoked or expired"),
    403: ("Forbidden", "The token lacks the ability, or the record is another tenant's"),
    429: ("TooManyRequests", "Too many requests: wait `Retry-After` seconds"),
    502: ("BadGateway", "The service behind the gateway failed to answer properly"),
    503: (
        "Unavailable",
        "The service or one of its dependencies (the database, rate limiting) is unavailable "
        "for a moment: nothing was done; retry after `Retry-After` seconds",
    ),
    504: ("GatewayTimeout", "The service behind the gateway did not answer in time"),
}
_RESPONSE_REF = "#/components/responses/{name}"
# Answers that say when to try again: a rate limit, and an outage (shared.errors).
RETRY_AFTER_STATUSES = (429, 503)


def _gateway_responses() -> dict[str, Any]:
    responses = {}
    for status, (name, description) in GATEWAY_ERRORS.items():
        retry = ["Retry-After"] if status in RETRY_AFTER_STATUSES else []
        headers = [*RATE_LIMIT_HEADERS, *retry]
        responses[name] = {
            "description": description,
            "content": {"application/json": {"schema": ERROR_REF}},
            "headers": _header_refs(headers),
        }
    return responses


DESCRIPTION = """\
Self-hosted invoicing and billing API.

Authenticate with a personal access token, `Authorization: Bearer <id>|<secret>` (as
`POST /api/v1/tokens` or `POST /api/v1/login` answers it); each token carries abilities
(`invoices:read`, `companies:create`, `*`, ...) and the operations name the ones they need.

**Every `/api/v1/...` route is also served under `/api/...`** (without `v1`), with the same
contract.

Every answer carries the rate-limit headers `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
`X-RateLimit-Reset`, `RateLimit-Policy` and `RateLimit`; a 429 adds `Retry-After`. Every JSON
object answered carries `success` (true on 2xx, false on errors); errors also carry
`message`, `error_code` and its lower-case `error`, and `errors` per field on 422. A 204 has no
body; this document itself is a plain OpenAPI document.
"""


# Self-hosted: whoever runs the platform answers for it (no address is known here); the
# repository grants no open-source licence.
CONTACT = {"name": "The operators of this deployment"}
LICENSE = {"name": "Proprietary"}


@cache
def _own_document() -> Document:
    return build_document(page.OPERATIONS, title="gateway")


def publish(services: Mapping[str, Document]) -> Document:
    """The public document from each service's own, by service name."""
    merged = merge({**services, "gateway": _own_document()})
    for path, item in merged["paths"].items():
        for operation in item.values():
            # What the gateway answers itself has no upstream to fail (no 502 or 504).
            _add_gateway_answers(operation, proxied=path not in LOCAL_PATHS)
    schemas = merged["components"]["schemas"]
    document: Document = {
        "openapi": "3.1.0",
        "info": {
            "title": "Invoicing platform API",
            "version": "1.0.0",
            "description": DESCRIPTION,
            "contact": CONTACT,
            "license": LICENSE,
        },
        "servers": [{"url": "/", "description": "This gateway"}],
        "security": [{SCHEME: []}],
        "tags": _tags(merged["paths"], services),
        "paths": dict(sorted(merged["paths"].items())),
        "components": {
            "schemas": schemas,
            "headers": RATE_LIMIT_HEADERS | {"Retry-After": RETRY_AFTER},
            "responses": _gateway_responses(),
            "securitySchemes": {
                SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token, `<id>|<secret>` (Sanctum style)",
                }
            },
        },
    }
    used = referenced_schemas(document)  # internal routes' models are not published
    document["components"]["schemas"] = {k: v for k, v in sorted(schemas.items()) if k in used}
    return document


def _header_refs(names: Iterable[str]) -> dict[str, Any]:
    return {name: {"$ref": _HEADER_REF.format(name=name)} for name in names}


def _add_gateway_answers(operation: dict[str, Any], *, proxied: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for response in responses.values():  # the service's own answers pass the guard too
        response.setdefault("headers", {}).update(_header_refs(RATE_LIMIT_HEADERS))
    for status in _gateway_statuses(operation, proxied=proxied):
        name = GATEWAY_ERRORS[status][0]
        responses.setdefault(str(status), {"$ref": _RESPONSE_REF.format(name=name)})
    for status in RETRY_AFTER_STATUSES:
        if "headers" in responses.get(str(status), {}):
            responses[str(status)]["headers"].update(_header_refs(["Retry-After"]))


def _gateway_statuses(operation: dict[str, Any], *, proxied: bool) -> list[int]:
    statuses = [429, 503]
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", ())):
        statuses.append(400)
    if operation.get("security") != []:
        statuses.append(401)
    if operation.get("x-abilities"):
        statuses.append(403)
    if proxied:
        statuses += [502, 504]
    return sorted(statuses)


def _tags(paths: dict[str, Any], services: Mapping[str, Document]) -> list[dict[str, str]]:
    """Every tag an operation uses, described (the gateway's words, else a service's), in the
    order of the gateway's list, then alphabetically."""
    used = {tag for item in paths.values() for op in item.values() for tag in op.get("tags", ())}
    offered = {
        tag["name"]: tag.get("description", "")
        for document in services.values()
        for tag in document.get("tags", ())
    }
    order = list(TAG_DESCRIPTIONS)
    ranked = sorted(used, key=lambda tag: (order.index(tag) if tag in order else len(order), tag))
    return [
        {"name": tag, "description": TAG_DESCRIPTIONS.get(tag) or offered.get(tag, "")}
        for tag in ranked
    ]
