"""Request bodies and queries of auth-service, validated by pydantic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, Field, field_validator

from shared.fields import DateTime, Email, SingleLine
from shared.models import Body

Name = Annotated[SingleLine, Field(min_length=1, max_length=255)]
Ability = Annotated[SingleLine, Field(max_length=64)]


def _optional(*names: str, max_length: int = 255) -> Any:
    """An optional string field accepting the API's name and the seeds' spellings (docs/api.md)."""
    return Field(default=None, max_length=max_length, validation_alias=AliasChoices(*names))


class Credentials(Body):
    email: Email
    password: str = Field(min_length=1, max_length=1024)
    device_name: Name


class TokenRequest(Credentials):
    abilities: list[Ability] | None = Field(default=None, max_length=100)
    expires_at: DateTime | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # Whether it is in the future is the handler's check: it asks the app's clock.
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class ProfileUpdate(Body):
    """Every field optional (PUT and PATCH alike); the seeds' spellings are accepted too."""

    not_null: ClassVar[frozenset[str]] = frozenset({"name", "email"})  # NOT NULL columns

    name: Name | None = None
    first_name: SingleLine | None = _optional("first_name", "firstname")
    last_name: SingleLine | None = _optional("last_name", "lastname")
    email: Email | None = None
    company_name: SingleLine | None = _optional("company_name", "companyname")
    address1: SingleLine | None = _optional("address1")
    address2: SingleLine | None = _optional("address2")
    city: SingleLine | None = _optional("city")
    state: SingleLine | None = _optional("state")
    postcode: SingleLine | None = _optional("postcode", max_length=32)
    country: SingleLine | None = _optional("country", max_length=64)
    phone: SingleLine | None = _optional("phone", "phonenumber", max_length=64)


class IntrospectRequest(Body):
    token: str = Field(min_length=1, max_length=512)


class InternalUserCreate(Body):
    email: Email
    name: Name
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    kind: Literal["member", "client"] = "member"


class UserLookup(Body):
    """One user by e-mail, or several by id."""

    email: str | None = None
    ids: str | None = Field(default=None, description="Comma-separated user ids (up to 500).")
