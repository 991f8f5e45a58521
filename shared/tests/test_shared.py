"""Unit tests of the shared library's pure pieces, plus the migration runner on Postgres."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from pydantic import BaseModel, Field

from shared.abilities import grants, known_abilities
from shared.db import apply_migrations, create_pool
from shared.errors import ValidationFailed
from shared.ratelimit import LocalSlidingWindow, Policy
from shared.tokens import hash_secret, parse_token
from shared.validation import validate


def test_ability_wildcards():
    assert grants(["*"], "invoices:read")
    assert grants(["invoices:*"], "invoices:pay")
    assert grants(["*:read"], "quotes:read")
    assert not grants(["*:read"], "quotes:create")
    assert not grants(["invoices:read"], "invoices:download")
    assert not grants([], "profile:read")


def test_known_abilities_keep_order_and_drop_unknown():
    assert known_abilities(["quotes:read", "bogus", "quotes:read", "*:delete"]) == [
        "quotes:read",
        "*:delete",
    ]


def test_token_parsing():
    parsed = parse_token("12|secretsecret")
    assert parsed is not None and parsed.token_id == 12
    assert parsed.secret_hash == hash_secret("secretsecret")
    assert parse_token("plainsecret").token_id is None  # Sanctum accepts a bare secret too
    assert parse_token("plainsecret").secret_hash == hash_secret("plainsecret")
    assert "secretsecret" not in repr(parsed)  # the credential never reaches a log line
    # ASCII digits only: '²'.isdigit() is true, and int('²') raises.
    for bad in ("", "x|abc", "1|", "|abc", "1" * 19 + "|abc", "a" * 600, "²|abc", "\u0661|abc"):
        assert parse_token(bad) is None, bad


def test_local_window_is_exact_and_slides():
    window = LocalSlidingWindow()
    policy = [Policy("default", "k", 3, 60)]
    admitted = [window.check(policy, now_ms=1000 + i).admitted for i in range(5)]
    assert admitted == [True, True, True, False, False]
    refused = window.check(policy, now_ms=2000)
    assert refused.retry_after == 59  # the first slot frees at 61.000 s
    assert window.check(policy, now_ms=61_001).admitted  # the first entry left the window


def test_local_window_reports_tightest_policy():
    window = LocalSlidingWindow()
    policies = [Policy("default", "u", 60, 60), Policy("send", "s", 1, 60)]
    first = window.check(policies, now_ms=0)
    assert (first.policy, first.remaining) == ("send", 0)
    second = window.check(policies, now_ms=10)
    assert not second.admitted and second.policy == "send"
    assert window.check([Policy("default", "u", 60, 60)], now_ms=20).remaining == 58


class Item(BaseModel):
    label: str = Field(max_length=5)
    quantity: int = Field(ge=1)


def test_validation_errors_are_laravel_style():
    with pytest.raises(ValidationFailed) as caught:
        validate(Item, {"label": "toolong", "quantity": "many"})
    errors = caught.value.errors
    assert errors == {
        "label": ["The label field must not be greater than 5 characters."],
        "quantity": ["The quantity field must be an integer."],
    }
    assert caught.value.message == "The label field must not be greater than 5 characters."
    with pytest.raises(ValidationFailed) as caught:
        validate(Item, {})
    assert caught.value.errors["label"] == ["The label field is required."]


async def test_migrations_apply_once_even_when_raced(database_urls, tmp_path: Path):
    (tmp_path / "001_first.sql").write_text("CREATE TABLE race_a (id int);")
    (tmp_path / "002_second.sql").write_text("CREATE TABLE race_b (id int);")
    (tmp_path / "README").write_text("not a migration")
    admin = await asyncpg.connect(database_urls["pdf"])
    await admin.execute("CREATE DATABASE migrations_race")
    await admin.close()
    url = database_urls["pdf"].rsplit("/", 1)[0] + "/migrations_race"
    pools = [await create_pool(url, min_size=1, max_size=2) for _ in range(3)]
    try:
        applied = await asyncio.gather(*(apply_migrations(pool, tmp_path) for pool in pools))
        assert sorted(applied, key=len) == [[], [], [1, 2]]
        (tmp_path / "003_broken.sql").write_text("CREATE TABLE race_c (id int); SELECT nope;")
        with pytest.raises(asyncpg.PostgresError):
            await apply_migrations(pools[0], tmp_path)
        # The failed file left nothing behind: its transaction rolled back whole.
        assert await pools[0].fetchval("SELECT to_regclass('race_c')") is None
        versions = await pools[0].fetch("SELECT version FROM schema_migrations ORDER BY 1")
        assert [row["version"] for row in versions] == [1, 2]
    finally:
        for pool in pools:
            await pool.close()


def test_nul_characters_are_found_wherever_they_hide():
    from shared.validation import _unstorable_text

    found = _unstorable_text({"name": "ok", "items": [{"label": "a\x00b"}]})
    assert found == ("items.0.label", "must not contain NUL characters")
    assert _unstorable_text({"name": "fine", "n": 3, "list": [None, True]}) is None
