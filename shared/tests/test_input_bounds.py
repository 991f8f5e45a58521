"""Issue 8, inputs bounded where they are read: the shared field types, the JSON depth limit,
ASCII-only path ids, tampered cursors, and the database's DataError as a last line of defence.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from email.headerregistry import Address

import asyncpg
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.db import create_pool
from shared.errors import BadRequest, ValidationFailed
from shared.fields import (
    _EMAIL_PATTERN,
    AwareDateTime,
    DateTime,
    Email,
    IsoDate,
    MultiLine,
    SingleLine,
)
from shared.pagination import decode_cursor, encode_cursor
from shared.validation import MAX_JSON_DEPTH, parse_body, path_id, validate
from shared.web import create_base_app, json_response

CONTROL = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]  # Unicode category Cc


class Texts(BaseModel):
    label: SingleLine | None = None
    notes: MultiLine | None = None


class Dates(BaseModel):
    day: IsoDate | None = None
    moment: DateTime | None = None
    aware: AwareDateTime | None = None


def refused(model: type[BaseModel], data: dict[str, object]) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        validate(model, data)
    assert caught.value.status == 422
    return caught.value.errors or {}


def test_single_line_text_refuses_every_control_character_and_line_separator():
    for char in [*CONTROL, "\u2028", "\u2029"]:
        errors = refused(Texts, {"label": f"INV{char}0001"})
        assert list(errors) == ["label"], repr(char)
    assert validate(Texts, {"label": "Ködmön Kft. · №1 — ok"}).label == "Ködmön Kft. · №1 — ok"


def test_multi_line_text_keeps_tabs_and_line_breaks_only():
    kept = "Line one\r\nLine two\n\tindented"
    assert validate(Texts, {"notes": kept}).notes == kept
    for char in CONTROL:
        if char in "\t\n\r":
            continue
        assert list(refused(Texts, {"notes": f"a{char}b"})) == ["notes"], repr(char)


def test_dates_are_iso_and_within_1900_to_2999():
    assert validate(Dates, {"day": "1900-01-01"}).day == date(1900, 1, 1)
    assert validate(Dates, {"day": "2999-12-31"}).day == date(2999, 12, 31)
    for bad in (
        "1899-12-31",
        "3000-01-01",
        "0694-06-11",
        "9999-12-31",
        1700000000,
        "\uff12\uff10\uff12\uff15-01-01",
    ):
        errors = refused(Dates, {"day": bad})
        assert errors["day"][0].startswith("The day field must be"), (bad, errors)
    assert validate(Dates, {"moment": "2999-12-31T23:59:59"}).moment == datetime(
        2999, 12, 31, 23, 59, 59
    )
    for field, bad in (
        ("moment", "0001-01-01T00:00:00"),
        ("moment", "3000-01-01T00:00:00Z"),
        ("aware", "0001-01-01T00:00:00+14:00"),  # converting it to UTC would overflow
        ("aware", "9999-12-31T23:59:59-14:00"),
    ):
        assert list(refused(Dates, {field: bad})) == [field], bad
    assert "aware" in refused(Dates, {"aware": "2025-01-01T00:00:00"})  # still needs a zone


# --- through a real app: JSON depth, path ids, DataError --------------------------------


class Anything(BaseModel):
    value: object = None


async def echo(request: web.Request) -> web.Response:
    body = await parse_body(request, Anything)
    return json_response({"value": body.value})


async def thing(request: web.Request) -> web.Response:
    return json_response({"id": path_id(request)})


@pytest.fixture
async def client(aiohttp_client, database_urls):
    pool = await create_pool(database_urls["billing"], min_size=1, max_size=2)

    async def out_of_range(_: web.Request) -> web.Response:
        # A value that passed no validation reaches PostgreSQL: bigint overflow.
        return json_response({"value": await pool.fetchval("SELECT $1::bigint", 2**70)})

    async def bad_text(_: web.Request) -> web.Response:
        return json_response({"value": await pool.fetchval("SELECT $1::text", "a\x00b")})

    app = create_base_app("test")
    app.router.add_post("/echo", echo)
    app.router.add_get("/things/{id}", thing)
    app.router.add_get("/out-of-range", out_of_range)
    app.router.add_get("/bad-text", bad_text)
    yield await aiohttp_client(app)
    await pool.close()


async def test_json_nested_deeper_than_the_limit_is_a_400(client):
    for raw in (
        "[" * 50_000,
        '{"value":' * 50_000,
        '{"value": ' + "[" * (MAX_JSON_DEPTH + 5) + "]" * (MAX_JSON_DEPTH + 5) + "}",
    ):
        response = await client.post("/echo", data=raw)
        answer = await response.json()
        assert response.status == 400, answer
        assert answer["error_code"] == "BAD_REQUEST"
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    response = await client.post("/echo", data='{"value": ' + nested + "}")
    assert response.status == 200
    # Brackets inside strings are text, not nesting.
    response = await client.post("/echo", data=json.dumps({"value": "[{" * 10_000}))
    assert response.status == 200 and (await response.json())["value"] == "[{" * 10_000


async def test_lone_surrogates_and_nul_in_any_string_are_a_422_naming_the_field(client):
    # JSON may escape a lone surrogate; no UTF-8 (a database, a password hash) can encode it.
    for raw, field, problem in (
        ('{"value": {"password": "a\\ud800"}}', "value.password", "must be valid Unicode text"),
        ('{"value": ["ok", "\\udfff"]}', "value.1", "must be valid Unicode text"),
        ('{"value": "a\\u0000"}', "value", "must not contain NUL characters"),
    ):
        response = await client.post("/echo", data=raw)
        answer = await response.json()
        assert response.status == 422, answer
        assert answer["errors"] == {field: [f"The {field.replace('_', ' ')} field {problem}."]}


async def test_path_ids_are_ascii_digits_of_bounded_length(client):
    response = await client.get("/things/42")
    assert (response.status, await response.json()) == (200, {"success": True, "id": 42})
    # Python's str.isdigit and int() also take superscripts, Arabic-Indic and full-width digits.
    for odd in ("²", "١٢", "\uff11", "9" * 20, "9223372036854775808", "-1", "+1", "1_000", "%201"):
        response = await client.get(f"/things/{odd}")
        answer = await response.json()
        assert response.status == 404, (odd, answer)
        assert answer["error_code"] == "NOT_FOUND"


async def test_a_database_data_error_is_a_400_not_a_500(client):
    for path in ("/out-of-range", "/bad-text"):
        response = await client.get(path)
        answer = await response.json()
        assert response.status == 400, answer
        assert answer["error_code"] == "BAD_REQUEST"


# --- cursors ------------------------------------------------------------------------------


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_cursors_round_trip_each_sort_type():
    moment = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
    for value, sql_type in (
        (7, "bigint"),
        (date(2025, 6, 1), "date"),
        (moment, "timestamptz"),
        (Decimal("1234.5600"), "numeric"),
        ("Ködmön-№ 7", "text"),
    ):
        assert decode_cursor(encode_cursor(value, 99), sql_type) == (value, 99)


@pytest.mark.parametrize(
    ("sql_type", "raw"),
    [
        ("bigint", b'["' + b"9" * 30 + b'", 1]'),
        ("bigint", b'["\xc2\xb2", 1]'),  # '²'
        ("bigint", b'["1", ' + b"9" * 30 + b"]"),
        ("bigint", b'["1", -1]'),
        ("bigint", b'["1", true]'),
        ("bigint", b'["1", 1.5]'),
        ("numeric", b'["1e999999", 1]'),
        ("numeric", b'["NaN", 1]'),
        ("numeric", b'["-Infinity", 1]'),
        ("text", b'["a\\u0000b", 1]'),
        ("text", b'["\\ud800", 1]'),
        ("date", b'["0000-01-01", 1]'),
        ("date", b'["2025-02-30", 1]'),
        ("timestamptz", b'["0001-01-01T00:00:00+14:00", 1]'),
        ("timestamptz", b'["2025-01-01T00:00:00", 1]'),
        ("text", b"[[1], 1]"),
        ("text", b'{"a": 1}'),
        ("text", b'["a", 1, 2]'),
        ("text", b"[" * 300),
        ("text", b"\xff\xfe"),
    ],
)
def test_tampered_cursors_are_a_400(sql_type, raw):
    with pytest.raises(BadRequest):
        decode_cursor(cursor_of(raw), sql_type)


def test_garbage_cursors_are_a_400():
    for garbage in ("garbage!!", "", "\x00", "\ud800", "²", "=" * 10):
        with pytest.raises(BadRequest):
            decode_cursor(garbage, "bigint")


async def test_data_error_classes_reach_the_middleware_as_data_errors(database_urls):
    """The middleware relies on asyncpg raising DataError (or a subclass) for both kinds."""
    conn = await asyncpg.connect(database_urls["billing"])
    try:
        with pytest.raises(asyncpg.DataError):
            await conn.fetchval("SELECT $1::bigint", 2**70)  # refused while encoding
        with pytest.raises(asyncpg.DataError):
            await conn.fetchval("SELECT '99999999999999999999'::bigint")  # refused by the server
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "address",
    [
        "a<b@c.de",
        "a,b@c.de",
        "a;b@c.de",
        "a(b@c.de",
        "ü@ü.de",
        "=?utf-8?q?x?=@c.de",
        'a@b.c"><script>',
        ".a@c.de",
        "a..b@c.de",
        "a.@c.de",
        "a@-c.de",
        "a@c",
    ],
)
def test_addresses_the_mailer_could_not_use_are_refused(address: str) -> None:
    class Body(BaseModel):
        email: Email

    with pytest.raises(ValidationError):
        Body(email=address)


@given(
    st.from_regex(_EMAIL_PATTERN, fullmatch=True).filter(
        lambda text: len(text) <= 255 and "=?" not in text
    )
)
@settings(max_examples=300, deadline=None)
def test_every_accepted_address_is_one_the_mailer_can_address(address: str) -> None:
    assert Address(addr_spec=address).addr_spec == address


async def test_a_reference_that_vanished_meanwhile_is_a_422_on_its_field(
    aiohttp_client, database_urls
):
    """A concurrent delete between a check and the write surfaces as a foreign-key violation:
    the middleware answers what the check would now say, never a 500."""
    suffix = os.urandom(4).hex()
    parents, children = f"parents_{suffix}", f"children_{suffix}"
    conn = await asyncpg.connect(database_urls["pdf"])
    await conn.execute(
        f"CREATE TABLE {parents} (id int PRIMARY KEY);"
        f"CREATE TABLE {children} (id int, parent_id int REFERENCES {parents});"
        f"INSERT INTO {parents} VALUES (1); INSERT INTO {children} VALUES (1, 1)"
    )

    async def insert_child(_: web.Request) -> web.Response:
        await conn.execute(f"INSERT INTO {children} VALUES (2, 99)")
        return json_response({})

    async def delete_parent(_: web.Request) -> web.Response:
        await conn.execute(f"DELETE FROM {parents} WHERE id = 1")
        return json_response({})

    app = create_base_app("test")
    app.router.add_post("/children", insert_child)
    app.router.add_delete("/parents", delete_parent)
    client = await aiohttp_client(app)
    try:
        response = await client.post("/children")
        assert response.status == 422
        assert "parent_id" in (await response.json())["errors"]
        response = await client.delete("/parents")
        assert (response.status, (await response.json())["error_code"]) == (409, "CONFLICT")
    finally:
        await conn.execute(f"DROP TABLE {children}; DROP TABLE {parents}")
        await conn.close()
