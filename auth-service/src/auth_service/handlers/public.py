"""Public routes of auth-service (reached through the gateway under /api/v1). Who may call
each is checked before these run (routes.py)."""

from __future__ import annotations

from aiohttp import web

from auth_service.keys import ACCOUNTS, TOKENS
from auth_service.repositories.users import User
from auth_service.schemas import (
    Credentials,
    ProfileUpdate,
    TokenRequest,
)
from auth_service.services.grants import SESSION, Grant
from auth_service.services.tokens import IssuedToken
from auth_service.views import (
    IssuedTokenView,
    LoginUserView,
    LoginView,
    MessageView,
    TokenView,
    UserView,
    profile_view,
)
from shared.contract import body_of
from shared.errors import NotFound, Unauthorized
from shared.identity import Identity, identity_of
from shared.validation import path_id
from shared.web import json_response


def client_ip(request: web.Request) -> str:
    """The address the gateway saw: the last X-Forwarded-For hop is the one it appended."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    return hops[-1] if hops else (request.remote or "unknown")


async def create_token(request: web.Request) -> web.Response:
    body = await body_of(request, TokenRequest)
    # The request's own mistakes are answered before the password is checked.
    grant = request.app[TOKENS].grant(
        body.abilities, expires_at=body.expires_at, expires_in_days=body.expires_in_days
    )
    _, issued = await _token_for(request, body, grant)
    view = IssuedTokenView(
        token=issued.plain_text,
        abilities=issued.record.abilities,
        expires_at=issued.record.expires_at,
    )
    return json_response(view, status=201)


async def login(request: web.Request) -> web.Response:
    body = await body_of(request, Credentials)
    user, issued = await _token_for(request, body, SESSION)
    view = LoginView(
        token=issued.plain_text,
        user=LoginUserView(id=user.id, name=user.name, email=user.email),
    )
    return json_response(view)


async def _token_for(
    request: web.Request, credentials: Credentials, grant: Grant
) -> tuple[User, IssuedToken]:
    """The user these credentials are (throttled per e-mail and address) and a new token."""
    user = await request.app[ACCOUNTS].authenticate(
        credentials.email, credentials.password, client_ip(request)
    )
    issued = await request.app[TOKENS].issue(
        user_id=user.id,
        name=credentials.device_name,
        abilities=grant.abilities,
        expires_at=grant.expires_at,
    )
    return user, issued


def _token_id(identity: Identity) -> int:
    if identity.token_id is None:
        raise Unauthorized()
    return identity.token_id


async def logout(request: web.Request) -> web.Response:
    identity = identity_of(request)
    await request.app[TOKENS].revoke(user_id=identity.user_id, token_id=_token_id(identity))
    return json_response(MessageView(message="Logged out successfully"))


async def _current_user(request: web.Request) -> User:
    user = await request.app[ACCOUNTS].get(identity_of(request).user_id)
    if user is None:
        raise Unauthorized()
    return user


async def me(request: web.Request) -> web.Response:
    user = await _current_user(request)
    return json_response(
        UserView(id=user.id, name=user.name, email=user.email, created_at=user.created_at)
    )


async def list_tokens(request: web.Request) -> web.Response:
    identity = identity_of(request)
    tokens = await request.app[TOKENS].list_for(identity.user_id)
    return json_response({"data": [TokenView.of(token, identity.token_id) for token in tokens]})


async def revoke_token(request: web.Request) -> web.Response:
    identity = identity_of(request)
    token_id = path_id(request, "token_id")
    if not await request.app[TOKENS].revoke(user_id=identity.user_id, token_id=token_id):
        raise NotFound()
    return web.Response(status=204)


async def get_profile(request: web.Request) -> web.Response:
    return json_response({"data": profile_view(await _current_user(request))})


async def update_profile(request: web.Request) -> web.Response:
    body = await body_of(request, ProfileUpdate)
    user = await _current_user(request)
    changes = body.model_dump(exclude_unset=True)
    updated = await request.app[ACCOUNTS].update_profile(user, changes)
    return json_response({"data": profile_view(updated)})
