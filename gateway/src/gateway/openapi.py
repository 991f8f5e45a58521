"""The OpenAPI document of the whole public API, built from a compact operation table."""

from __future__ import annotations

from typing import Any

# (method, path, tag, summary, ability or None for public/any token, request schema, status)
Operation = tuple[str, str, str, str, str | None, str | None, int]

OPERATIONS: tuple[Operation, ...] = (
    (
        "post",
        "/tokens",
        "Authentication",
        "Create a personal access token",
        None,
        "TokenRequest",
        201,
    ),
    (
        "post",
        "/login",
        "Authentication",
        "Log in: a full-access token and the user",
        None,
        "Credentials",
        200,
    ),
    ("post", "/logout", "Authentication", "Revoke the calling token", "", None, 200),
    ("get", "/me", "Authentication", "The current user (unwrapped)", "", None, 200),
    (
        "get",
        "/tokens",
        "Authentication",
        "The caller's tokens (never their secrets)",
        "",
        None,
        200,
    ),
    (
        "delete",
        "/tokens/{id}",
        "Authentication",
        "Revoke one of the caller's tokens",
        "",
        None,
        204,
    ),
    ("get", "/profile", "Profile", "Read the profile", "profile:read", None, 200),
    ("put", "/profile", "Profile", "Update the profile", "profile:update", "Profile", 200),
    ("get", "/companies", "Companies", "List the caller's companies", "companies:read", None, 200),
    (
        "post",
        "/companies",
        "Companies",
        "Create a company (the caller becomes owner)",
        "companies:create",
        "Company",
        201,
    ),
    ("get", "/companies/{id}", "Companies", "Read a company", "companies:read", None, 200),
    ("put", "/companies/{id}", "Companies", "Update a company", "companies:update", "Company", 200),
    (
        "patch",
        "/companies/{id}",
        "Companies",
        "Update a company",
        "companies:update",
        "Company",
        200,
    ),
    (
        "delete",
        "/companies/{id}",
        "Companies",
        "Delete a company (owner only)",
        "companies:delete",
        None,
        204,
    ),
)

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["message", "error_code"],
        "properties": {
            "message": {"type": "string"},
            "error_code": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
    "Credentials": {
        "type": "object",
        "required": ["email", "password", "device_name"],
        "properties": {
            "email": {"type": "string", "format": "email"},
            "password": {"type": "string"},
            "device_name": {"type": "string", "maxLength": 255},
        },
    },
    "TokenRequest": {
        "allOf": [
            {"$ref": "#/components/schemas/Credentials"},
            {
                "type": "object",
                "properties": {
                    "abilities": {"type": "array", "items": {"type": "string"}, "default": ["*"]},
                    "expires_at": {"type": "string", "format": "date-time"},
                    "expires_in_days": {"type": "integer", "minimum": 1},
                },
            },
        ]
    },
    "Profile": {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in (
                "name",
                "first_name",
                "last_name",
                "email",
                "company_name",
                "address1",
                "address2",
                "city",
                "state",
                "postcode",
                "country",
                "phone",
            )
        },
    },
    "Company": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "maxLength": 255}, "slug": {"type": "string"}},
    },
}

_ERRORS = {
    "401": "UNAUTHORIZED or TOKEN_EXPIRED",
    "403": "FORBIDDEN: the token lacks the ability",
    "422": "VALIDATION_ERROR",
    "429": "RATE_LIMITED, with Retry-After",
}


def _operation(op: Operation) -> dict[str, Any]:
    _, _, tag, summary, ability, schema, status = op
    doc: dict[str, Any] = {
        "tags": [tag],
        "summary": summary,
        "responses": {str(status): {"description": "Success"}}
        | {
            code: {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            for code, text in _ERRORS.items()
        },
    }
    if ability is None:
        doc["security"] = []
    elif ability:
        doc["description"] = f"Requires the `{ability}` ability."
    if schema:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    return doc


def build_openapi() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op[1], {})[op[0]] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Invoicing platform API",
            "version": "1.0.0",
            "description": "Every route is also served under /api (without v1). Rate-limit "
            "headers X-RateLimit-* and RateLimit/RateLimit-Policy come with every response.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "`<id>|<secret>`"}
            },
            "schemas": _SCHEMAS,
        },
    }
