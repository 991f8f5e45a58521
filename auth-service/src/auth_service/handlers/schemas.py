"""Request bodies of auth-service, validated by pydantic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _optional(*names: str, max_length: int = 255) -> Any:
    """An optional string field accepting API.md's name and the seeds' spellings."""
    return Field(default=None, max_length=max_length, validation_alias=AliasChoices(*names))


class Credentials(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    email: str = Field(min_length=3, max_length=255, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=1, max_length=1024)
    device_name: str = Field(min_length=1, max_length=255)


class TokenRequest(Credentials):
    abilities: list[str] | None = Field(default=None, max_length=100)
    expires_at: datetime | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("expires_at")
    @classmethod
    def _future_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        if value <= datetime.now(UTC):
            raise ValueError("must be a date-time in the future")
        return value


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=255)
    first_name: str | None = _optional("first_name", "firstname")
    last_name: str | None = _optional("last_name", "lastname")
    email: str | None = Field(default=None, max_length=255, pattern=EMAIL_PATTERN)
    company_name: str | None = _optional("company_name", "companyname")
    address1: str | None = _optional("address1")
    address2: str | None = _optional("address2")
    city: str | None = _optional("city")
    state: str | None = _optional("state")
    postcode: str | None = _optional("postcode", max_length=32)
    country: str | None = _optional("country", max_length=64)
    phone: str | None = _optional("phone", "phonenumber", max_length=64)


class IntrospectRequest(BaseModel):
    token: str = Field(min_length=1, max_length=512)


class InternalUserCreate(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    email: str = Field(min_length=3, max_length=255, pattern=EMAIL_PATTERN)
    name: str = Field(min_length=1, max_length=255)
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    kind: Literal["member", "client"] = "member"
