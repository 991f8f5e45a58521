"""JSON answers are written by orjson, value for value as the standard library wrote them:
money as exact strings, datetimes with `Z`, what orjson refuses still written."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, Field

from shared.web import dumps, json_response


def legacy(payload: Any) -> str:
    """How answers were written before orjson (shared.web's old `dumps`)."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, BaseModel):
            return value.model_dump(by_alias=True)
        raise TypeError(type(value).__name__)

    return json.dumps(payload, default=default, separators=(",", ":"))


class View(BaseModel):
    invoice_id: int = Field(serialization_alias="id")
    total: Decimal
    paid_at: datetime | None = None


VALUES: list[Any] = [
    Decimal("1234567890123.4567"),
    Decimal("0.10"),
    Decimal("-0"),
    datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    datetime(2026, 12, 1, 9, 30, 5, 120, tzinfo=UTC),
    datetime(2026, 12, 1, 9, 30, 5, 120, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 12, 1, 9, 30),
    date(2026, 2, 28),
    uuid.UUID("7f1c4e0e-3b1f-4c55-9d7e-3c2f1f0d6a11"),
    View(invoice_id=3, total=Decimal("9.90"), paid_at=datetime(2026, 1, 2, tzinfo=UTC)),
    {1: "integer keys", "nested": [{"a": Decimal("2.50")}]},
    2**64 + 1,  # past orjson's range: the standard library writes it
    "\ud800",  # a lone surrogate: likewise
    "Zoë, 東京",
    None,
    True,
    1.5,
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_value_reads_back_as_it_did(value: Any) -> None:
    payload = {"data": value}
    assert json.loads(dumps(payload)) == json.loads(legacy(payload))


def test_money_and_instants_keep_their_exact_text() -> None:
    text = dumps({"total": Decimal("10.10"), "at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)})
    assert text == '{"total":"10.10","at":"2026-01-02T03:04:05.000006Z"}'


def test_what_no_encoder_knows_is_still_an_error() -> None:
    with pytest.raises(TypeError):
        dumps({"value": object()})


def test_answers_say_utf8_json() -> None:
    response = json_response({"name": "Zoë"}, status=201, headers={"ETag": '"1"'})
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.status == 201 and response.headers["ETag"] == '"1"'
    assert json.loads(response.body) == {"success": True, "name": "Zoë"}
