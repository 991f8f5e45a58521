"""What the generated document says about a request body is what the validator does with it:
an optional field that refuses null is not nullable, a default is not published as `default`
(openapi-typescript would make the field required), a body that may be left out is not
required, ids are int64 (the issue's findings, one by one)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar

import pytest
from aiohttp import web
from pydantic import AliasChoices, Field

from shared.contract import IDEMPOTENCY_KEY, Data, Operation, Public
from shared.errors import ValidationFailed
from shared.fields import Email, IsoDate, SingleLine
from shared.models import Body, View
from shared.openapi import PublishedJsonSchema, build_document
from shared.validation import validate


class Update(Body):
    not_null: ClassVar[frozenset[str]] = frozenset({"enabled", "label"})

    enabled: bool | None = None
    label: SingleLine | None = Field(default=None, validation_alias=AliasChoices("label", "number"))
    note: str | None = None  # null clears it
    kind: str = "service"
    owner_id: int | None = None


class Create(Body):
    name: SingleLine
    email: Email
    on: IsoDate | None = None


class Answer(View):
    id: int
    parent_id: int | None = None


async def _handler(request: web.Request) -> web.Response:
    raise NotImplementedError


def _document() -> dict[str, Any]:
    def operation(method: str, body: type[Body]) -> Operation:
        return Operation(
            method,
            "/things/{id}",
            _handler,
            Public(),
            "A thing",
            "Things",
            f"{method.lower()}_thing",
            Data(Answer),
            body=body,
            headers=(IDEMPOTENCY_KEY,),
        )

    return build_document([operation("PATCH", Update), operation("POST", Create)], title="t")


def test_a_field_refusing_null_is_published_not_nullable_under_each_name() -> None:
    properties = _document()["components"]["schemas"]["Update"]["properties"]
    assert properties["enabled"]["type"] == "boolean" and "anyOf" not in properties["enabled"]
    for name in ("label", "number"):
        assert properties[name]["type"] == "string" and "anyOf" not in properties[name], name
    assert {"type": "null"} in properties["note"]["anyOf"]  # this one takes null


def test_a_null_where_the_model_refuses_it_is_a_422_naming_the_field() -> None:
    for body, field in (({"enabled": None}, "enabled"), ({"number": None}, "number")):
        with pytest.raises(ValidationFailed) as refused:
            validate(Update, body)
        assert refused.value.body()["errors"] == {field: [f"The {field} field must not be null."]}
    assert validate(Update, {"note": None, "enabled": True}).note is None


def test_request_defaults_are_described_not_published_as_default() -> None:
    properties = _document()["components"]["schemas"]["Update"]["properties"]
    assert not [name for name, schema in properties.items() if "default" in schema]
    assert 'Default: `"service"`.' in properties["kind"]["description"]


def test_a_body_that_may_be_empty_is_optional_and_one_that_may_not_is_required() -> None:
    paths = _document()["paths"]["/things/{id}"]
    assert paths["patch"]["requestBody"]["required"] is False
    assert paths["post"]["requestBody"]["required"] is True


def test_ids_dates_emails_text_and_the_idempotency_key_carry_their_rules() -> None:
    document = _document()
    schemas = document["components"]["schemas"]
    assert schemas["Answer"]["properties"]["id"]["format"] == "int64"
    assert schemas["Answer"]["properties"]["parent_id"]["anyOf"][0]["format"] == "int64"
    assert schemas["Update"]["properties"]["owner_id"]["anyOf"][0]["format"] == "int64"
    create = schemas["Create"]["properties"]
    assert create["email"]["format"] == "email" and create["email"]["pattern"]
    assert create["name"]["pattern"].startswith("^[^\\u0000-\\u001f")
    assert create["on"]["anyOf"][0]["format"] == "date" and create["on"]["anyOf"][0]["pattern"]
    parameters = document["paths"]["/things/{id}"]["post"]["parameters"]
    path_id = next(p for p in parameters if p["in"] == "path")
    assert path_id["schema"]["format"] == "int64"
    key = next(p for p in parameters if p["name"] == "Idempotency-Key")
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}


class Amounts(Body):
    price: Annotated[Decimal, Field(ge=0, le=Decimal("999999999999"), decimal_places=4)]
    quantity: Annotated[Decimal, Field(ge=Decimal("0.01"), le=9999, decimal_places=4)]


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("price", "150.00"),
        ("price", "0"),
        ("price", "99999999999.9999"),
        ("quantity", "1"),
        ("quantity", "999.5"),
    ],
)
def test_an_amount_the_string_pattern_admits_is_accepted(field: str, text: str) -> None:
    schema = Amounts.model_json_schema(schema_generator=PublishedJsonSchema)["properties"][field]
    number, string = schema["anyOf"]
    assert number["multipleOf"] == 0.0001 and number["type"] == "number"
    assert re.search(string["pattern"], text)
    other = {"price": "1", "quantity": "1"} | {field: text}
    assert getattr(validate(Amounts, other), field) == Decimal(text)


@pytest.mark.parametrize(
    ("field", "text"), [("price", ""), ("price", "1.23456"), ("price", "-1"), ("quantity", "0")]
)
def test_an_amount_the_server_refuses_is_outside_the_pattern(field: str, text: str) -> None:
    pattern = Amounts.model_json_schema(schema_generator=PublishedJsonSchema)["properties"][field]
    assert not re.search(pattern["anyOf"][1]["pattern"], text)
    with pytest.raises(ValidationFailed):
        validate(Amounts, {"price": "1", "quantity": "1"} | {field: text})
