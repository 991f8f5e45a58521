"""Public routes of auth-service (reached through the gateway under /api/v1)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from auth_service.handlers.schemas import (
    PROFILE_NOT_NULL,
    Credentials,
    ProfileUpdate,
    TokenRequest,
)
from auth_service.keys import ACCOUNTS, TOKENS
from auth_service.repositories.tokens import AccessToken
from auth_service.repositories.users import User
from shared.abilities import known_abilities
from shared.clock import CLOCK
from shared.errors import NotFound, Unauthorized, ValidationFailed
from shared.identity import Identity, identity_of, require_ability
from shared.validation import parse_body, path_id, reject_nulls
from shared.web import json_response


def client_ip(request: web.Request) -> str:
    """The address the gateway saw: the last X-Forwarded-For hop is the one it appended."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    return hops[-1] if hops else (request.remote or "unknown")


def _expiry(body: TokenRequest, now: datetime) -> datetime | None:
    if body.expires_at is not None and body.expires_in_days is not None:
        raise ValidationFailed.field(
            "expires_at", "Give either expires_at or expires_in_days, not both."
        )
    if body.expires_in_days is not None:
        return now + timedelta(days=body.expires_in_days)
    if body.expires_at is not None and body.expires_at <= now:
        raise ValidationFailed.field(
            "expires_at", "The expires at field must be a date-time in the future."
        )
    return body.expires_at


def _granted_abilities(requested: list[str] | None) -> list[str]:
    if requested is None:
        return ["*"]
    granted = known_abilities(requested)
    if not granted:
        raise ValidationFailed.field("abilities", "None of the requested abilities is valid.")
    return granted


async def create_token(request: web.Request) -> web.Response:
    body = await parse_body(request, TokenRequest)
    abilities = _granted_abilities(body.abilities)
    expires_at = _expiry(body, request.app[CLOCK]())
    user = await request.app[ACCOUNTS].authenticate(body.email, body.password, client_ip(request))
    issued = await request.app[TOKENS].issue(
        user_id=user.id, name=body.device_name, abilities=abilities, expires_at=expires_at
    )
    return json_response(
        {
            "token": issued.plain_text,
            "abilities": issued.record.abilities,
            "expires_at": issued.record.expires_at,
        },
        status=201,
    )


async def login(request: web.Request) -> web.Response:
    body = await parse_body(request, Credentials)
    user = await request.app[ACCOUNTS].authenticate(body.email, body.password, client_ip(request))
    issued = await request.app[TOKENS].issue(
        user_id=user.id, name=body.device_name, abilities=["*"], expires_at=None
    )
    return json_response(
        {
            "token": issued.plain_text,
            "user": {"id": user.id, "name": user.name, "email": user.email},
        }
    )


def _token_id(identity: Identity) -> int:
    if identity.token_id is None:
        raise Unauthorized()
    return identity.token_id


async def logout(request: web.Request) -> web.Response:
    identity = identity_of(request)
    await request.app[TOKENS].revoke(user_id=identity.user_id, token_id=_token_id(identity))
    return json_response({"message": "Logged out successfully"})


async def _current_user(request: web.Request) -> User:
    user = await request.app[ACCOUNTS].get(identity_of(request).user_id)
    if user is None:
        raise Unauthorized()
    return user


async def me(request: web.Request) -> web.Response:
    user = await _current_user(request)
    return json_response(
        {"id": user.id, "name": user.name, "email": user.email, "created_at": user.created_at}
    )


def _token_view(token: AccessToken, current_id: int | None) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "abilities": token.abilities,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "created_at": token.created_at,
        "is_current": token.id == current_id,
    }


async def list_tokens(request: web.Request) -> web.Response:
    identity = require_ability(request, "tokens:read")
    tokens = await request.app[TOKENS].list_for(identity.user_id)
    return json_response({"data": [_token_view(token, identity.token_id) for token in tokens]})


async def revoke_token(request: web.Request) -> web.Response:
    identity = identity_of(request)
    token_id = path_id(request, "token_id")
    if token_id != identity.token_id:
        # Revoking itself is logging out, always allowed; other tokens need the ability.
        identity.require("tokens:delete")
    if not await request.app[TOKENS].revoke(user_id=identity.user_id, token_id=token_id):
        raise NotFound()
    return web.Response(status=204)


def _profile_view(user: User) -> dict[str, Any]:
    view = {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "name": user.name,
        "email": user.email,
        "company_name": user.company_name,
        "address1": user.address1,
        "address2": user.address2,
        "city": user.city,
        "state": user.state,
        "postcode": user.postcode,
        "country": user.country,
        "phone": user.phone,
    }
    # INNOVATECH's client portal spelled these without underscores; its clients read them so.
    view |= {
        "firstname": user.first_name,
        "lastname": user.last_name,
        "companyname": user.company_name,
        "phonenumber": user.phone,
    }
    if user.kind == "client":
        # INNOVATECH's portal prints every profile field as a string: "" when empty.
        return {name: "" if value is None else value for name, value in view.items()}
    return view


async def get_profile(request: web.Request) -> web.Response:
    require_ability(request, "profile:read")
    return json_response({"data": _profile_view(await _current_user(request))})


async def update_profile(request: web.Request) -> web.Response:
    require_ability(request, "profile:update")
    body = await parse_body(request, ProfileUpdate)
    user = await _current_user(request)
    changes = body.model_dump(exclude_unset=True)
    reject_nulls(changes, PROFILE_NOT_NULL)
    updated = await request.app[ACCOUNTS].update_profile(user, changes)
    return json_response({"data": _profile_view(updated)})
