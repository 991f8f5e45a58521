"""What a new token may get (services.grants): pure rules, no service needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auth_service.services.grants import SESSION, expiry, grant, granted_abilities
from shared.errors import ValidationFailed

NOW = datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_no_abilities_requested_is_every_ability_and_unknown_ones_are_dropped() -> None:
    assert granted_abilities(None) == ["*"]
    assert granted_abilities(["x:y", "invoices:read", "invoices:read", "*:send"]) == [
        "invoices:read",
        "*:send",
    ]


def test_only_unknown_abilities_is_a_422_on_abilities() -> None:
    with pytest.raises(ValidationFailed) as refused:
        granted_abilities(["nonsense"])
    assert set(refused.value.errors) == {"abilities"}


def test_expiry_is_a_moment_or_days_from_now_never_both() -> None:
    moment = NOW + timedelta(hours=5)
    assert expiry(None, None, now=NOW) is None
    assert expiry(moment, None, now=NOW) == moment
    assert expiry(None, 30, now=NOW) == NOW + timedelta(days=30)
    for refused_moment, days in ((moment, 30), (NOW, None), (NOW - timedelta(days=1), None)):
        with pytest.raises(ValidationFailed) as refused:
            expiry(refused_moment, days, now=NOW)
        assert set(refused.value.errors) == {"expires_at"}


def test_abilities_are_judged_before_the_expiry() -> None:
    with pytest.raises(ValidationFailed) as refused:
        grant(["nonsense"], expires_at=NOW, expires_in_days=1, now=NOW)
    assert set(refused.value.errors) == {"abilities"}


def test_a_sessions_token_has_every_ability_until_logout() -> None:
    assert (SESSION.abilities, SESSION.expires_at) == (["*"], None)
