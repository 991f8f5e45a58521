"""What a new personal access token may get: its abilities and its expiry (pure rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.abilities import known_abilities
from shared.errors import ValidationFailed

EVERY_ABILITY = "*"


@dataclass(frozen=True)
class Grant:
    abilities: list[str]
    expires_at: datetime | None  # None: until revoked


# A session's token (`POST /login`): the user's own, with every ability, until logout.
SESSION = Grant([EVERY_ABILITY], None)


def granted_abilities(requested: list[str] | None) -> list[str]:
    """The known abilities among those requested (unknown ones are dropped); none requested
    is every ability; only unknown ones is a 422."""
    if requested is None:
        return [EVERY_ABILITY]
    granted = known_abilities(requested)
    if not granted:
        raise ValidationFailed.field("abilities", "None of the requested abilities is valid.")
    return granted


def expiry(
    expires_at: datetime | None, expires_in_days: int | None, *, now: datetime
) -> datetime | None:
    """When the token expires: a moment to come, or a number of days from now; never both."""
    if expires_at is not None and expires_in_days is not None:
        raise ValidationFailed.field(
            "expires_at", "Give either expires_at or expires_in_days, not both."
        )
    if expires_in_days is not None:
        return now + timedelta(days=expires_in_days)
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed.field(
            "expires_at", "The expires at field must be a date-time in the future."
        )
    return expires_at


def grant(
    requested: list[str] | None,
    *,
    expires_at: datetime | None,
    expires_in_days: int | None,
    now: datetime,
) -> Grant:
    return Grant(granted_abilities(requested), expiry(expires_at, expires_in_days, now=now))
