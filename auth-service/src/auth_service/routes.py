"""The operation table of auth-service: each route's contract, checked and documented from
here (shared.contract)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from auth_service.handlers import internal, public
from auth_service.keys import SETTINGS
from auth_service.schemas import (
    Credentials,
    InternalUserCreate,
    IntrospectRequest,
    ProfileUpdate,
    TokenRequest,
    UserLookup,
)
from auth_service.views import (
    AccountView,
    IntrospectionView,
    InvitedAccountView,
    IssuedTokenView,
    JwksView,
    LoginView,
    MessageView,
    ProfileView,
    TokenView,
    UserView,
)
from shared.contract import (
    AnyToken,
    Data,
    NoContent,
    Operation,
    Plain,
    Public,
    add_operations,
    requires,
)
from shared.identity import identity_of
from shared.service_access import INTERNAL_SECRET, InternalSecret, no_identity_needed
from shared.validation import path_id

V1 = "/api/v1"
AUTH, PROFILE, INTERNAL = "Authentication", "Profile", "Internal"
CREDENTIALS = Public("Public: the e-mail and password are the credentials.")


@dataclass(frozen=True)
class OwnTokenOr:
    """A token may always revoke itself (that is logging out); another token of the user's
    needs the ability."""

    ability: str
    public: bool = False

    def abilities(self) -> tuple[str, ...]:
        return (self.ability,)

    def describe(self) -> str:
        return f"Any token may revoke itself; another token needs the `{self.ability}` ability."

    def check(self, request: web.Request) -> None:
        identity = identity_of(request)
        if path_id(request, "token_id") != identity.token_id:
            identity.require(self.ability)


SERVICE = InternalSecret(SETTINGS)

OPERATIONS = [
    Operation(
        "POST",
        f"{V1}/tokens",
        public.create_token,
        CREDENTIALS,
        "Create a personal access token",
        AUTH,
        "create_token",
        Plain(IssuedTokenView),
        status=201,
        body=TokenRequest,
        errors=(429,),
        description="Unknown abilities are dropped; none requested is every ability (`*`). "
        "Five failed attempts a minute per e-mail and address are a 429.",
    ),
    Operation(
        "GET",
        f"{V1}/tokens",
        public.list_tokens,
        requires("tokens:read"),
        "List your personal access tokens",
        AUTH,
        "list_tokens",
        Data(list[TokenView]),
        errors=(401, 403),
    ),
    Operation(
        "DELETE",
        f"{V1}/tokens/{{token_id}}",
        public.revoke_token,
        OwnTokenOr("tokens:delete"),
        "Revoke a personal access token",
        AUTH,
        "revoke_token",
        NoContent(),
        status=204,
        errors=(401, 403),
    ),
    Operation(
        "POST",
        f"{V1}/login",
        public.login,
        CREDENTIALS,
        "Log in",
        AUTH,
        "login",
        Plain(LoginView),
        body=Credentials,
        errors=(429,),
        description="Issues a token with every ability, valid until logout.",
    ),
    Operation(
        "POST",
        f"{V1}/logout",
        public.logout,
        AnyToken(),
        "Log out (revoke this token)",
        AUTH,
        "logout",
        Plain(MessageView),
        errors=(401,),
    ),
    Operation(
        "GET",
        f"{V1}/me",
        public.me,
        AnyToken(),
        "Show the caller",
        AUTH,
        "get_me",
        Plain(UserView),
        errors=(401,),
    ),
    Operation(
        "GET",
        f"{V1}/profile",
        public.get_profile,
        requires("profile:read"),
        "Show your profile",
        PROFILE,
        "get_profile",
        Data(ProfileView),
        errors=(401, 403),
    ),
    *(
        Operation(
            method,
            f"{V1}/profile",
            public.update_profile,
            requires("profile:update"),
            "Update your profile",
            PROFILE,
            operation_id,
            Data(ProfileView),
            body=ProfileUpdate,
            errors=(401, 403),
            description="Only the fields sent change (PUT and PATCH alike).",
        )
        for method, operation_id in (("PUT", "update_profile"), ("PATCH", "patch_profile"))
    ),
    Operation(
        "POST",
        "/internal/introspect",
        internal.introspect,
        SERVICE,
        "Exchange a token for an identity JWT",
        INTERNAL,
        "introspect_token",
        Plain(IntrospectionView),
        body=IntrospectRequest,
        errors=(401,),
        headers=(INTERNAL_SECRET,),
    ),
    Operation(
        "GET",
        "/internal/jwks",
        internal.jwks,
        Public("Public: the keys that verify identity JWTs."),
        "The identity JWTs' public keys (JWKS)",
        INTERNAL,
        "get_jwks",
        Plain(JwksView, envelope=False),
    ),
    Operation(
        "POST",
        "/internal/users",
        internal.create_user,
        SERVICE,
        "Create a user",
        INTERNAL,
        "create_user",
        Data(AccountView | InvitedAccountView),
        status=201,
        body=InternalUserCreate,
        errors=(401,),
        headers=(INTERNAL_SECRET,),
    ),
    Operation(
        "GET",
        "/internal/users",
        internal.find_users,
        SERVICE,
        "Find users by e-mail or ids",
        INTERNAL,
        "find_users",
        Data(list[AccountView]),
        query=UserLookup,
        errors=(400, 401, 404),
        headers=(INTERNAL_SECRET,),
    ),
    Operation(
        "DELETE",
        "/internal/users/{user_id}",
        internal.delete_user,
        SERVICE,
        "Delete a user and their tokens",
        INTERNAL,
        "delete_user",
        NoContent(),
        status=204,
        errors=(401,),
        headers=(INTERNAL_SECRET,),
    ),
]

# Requests that need no identity JWT: public operations and the internal ones (their own
# check runs instead).
is_public = no_identity_needed(OPERATIONS)


def add_routes(app: web.Application) -> None:
    add_operations(app, OPERATIONS)
