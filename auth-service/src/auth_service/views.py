"""What auth-service answers: each record as its clients read it (the names docs/api.md gives,
the seeds' spellings beside them), declared once for the answers and for the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import Field, computed_field

from auth_service.repositories.tokens import AccessToken
from auth_service.repositories.users import User
from shared.models import View

Kind = Literal["member", "client"]


class IssuedTokenView(View):
    token: str = Field(description="`{id}|{secret}`: shown this once, never stored.")
    abilities: list[str]
    expires_at: datetime | None


class LoginUserView(View):
    id: int
    name: str
    email: str


class LoginView(View):
    token: str = Field(description="`{id}|{secret}`, with every ability; shown this once.")
    user: LoginUserView


class MessageView(View):
    message: str


class UserView(View):
    """The caller (`GET /me`)."""

    id: int
    name: str
    email: str
    created_at: datetime


class TokenView(View):
    """A personal access token, never its secret."""

    id: int
    name: str
    abilities: list[str]
    last_used_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    is_current: bool = Field(description="The token of this request.")

    @classmethod
    def of(cls, token: AccessToken, current_id: int | None) -> TokenView:
        shown = {name: getattr(token, name) for name in cls.model_fields if name != "is_current"}
        return cls(**shown, is_current=token.id == current_id)


Text = TypeVar("Text", str, str | None)


class _Profile(View, Generic[Text]):
    id: int
    first_name: Text
    last_name: Text
    name: str
    email: str
    company_name: Text
    address1: Text
    address2: Text
    city: Text
    state: Text
    postcode: Text
    country: Text
    phone: Text

    # INNOVATECH's client portal spelled these without underscores; its clients read them so.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def firstname(self) -> Text:
        return self.first_name

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lastname(self) -> Text:
        return self.last_name

    @computed_field  # type: ignore[prop-decorator]
    @property
    def companyname(self) -> Text:
        return self.company_name

    @computed_field  # type: ignore[prop-decorator]
    @property
    def phonenumber(self) -> Text:
        return self.phone


class MemberProfileView(_Profile[str | None]):
    """A member's profile: an empty field is null."""


class PortalProfileView(_Profile[str]):
    """A client-portal user's profile: INNOVATECH's portal prints every field as a string,
    so an empty one is ""."""


ProfileView = MemberProfileView | PortalProfileView


def profile_view(user: User) -> ProfileView:
    fields: dict[str, Any] = {
        name: getattr(user, name)
        for name in _Profile.model_fields  # the same names as the user's columns
    }
    if user.kind == "client":
        return PortalProfileView(**{k: "" if v is None else v for k, v in fields.items()})
    return MemberProfileView(**fields)


# --- internal answers ----------------------------------------------------------------------


class IntrospectionView(View):
    sub: int = Field(description="The user's id.")
    token_id: int
    kind: Kind
    abilities: list[str]
    identity_jwt: str = Field(description="EdDSA-signed, verified with `/internal/jwks`.")
    exp: int = Field(description="Unix time the identity JWT expires at.")


class JwksView(View):
    """A JSON Web Key Set (RFC 7517): the public keys of the identity JWTs."""

    keys: list[dict[str, Any]]


class AccountView(View):
    """A user as other services see them: who they are, never secrets."""

    id: int
    email: str
    name: str
    first_name: str | None
    kind: Kind

    @classmethod
    def of(cls, user: User) -> AccountView:
        return cls.model_validate(user, from_attributes=True)


class InvitedAccountView(AccountView):
    """A user created without a password: the one generated for them, given this once."""

    password: str
