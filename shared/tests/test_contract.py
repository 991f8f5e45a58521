"""The operation table: the access check runs before the handler, handlers read only the
models their operation declares, and the generated document is valid OpenAPI 3.1."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate
from pydantic import AliasChoices, BaseModel, Field

from shared.contract import (
    AnyToken,
    Data,
    NoContent,
    Operation,
    Paged,
    Public,
    add_operations,
    aliased,
    body_of,
    query_of,
    requires,
)
from shared.identity import IDENTITY, Identity
from shared.openapi import DOCUMENT_PATH, add_document_route, build_document
from shared.pagination import PageParams
from shared.web import create_base_app, json_response

CALLS: list[str] = []


class Item(BaseModel):
    label: str = Field(min_length=1, validation_alias=AliasChoices("label", "description"))


class Thing(BaseModel):
    name: str = Field(validation_alias=AliasChoices("name", "title"))
    items: list[Item] = []


class Filters(PageParams):
    search: str | None = None
    customer: int | None = Field(default=None, validation_alias=AliasChoices("customer", "buyer"))


class ThingOut(BaseModel):
    id: int
    name: str


async def create_thing(request: web.Request) -> web.Response:
    CALLS.append("create")
    thing = await body_of(request, Thing)
    return json_response({"data": ThingOut(id=1, name=thing.name)}, status=201)


async def list_things(request: web.Request) -> web.Response:
    filters = query_of(request, Filters)
    return json_response({"data": [], "search": filters.search})


async def misdeclared(request: web.Request) -> web.Response:
    await body_of(request, Item)  # the operation declares Thing
    return json_response({})


async def delete_thing(request: web.Request) -> web.Response:
    return web.Response(status=204)


OPERATIONS = [
    Operation(
        "POST",
        "/api/v1/things",
        create_thing,
        requires("things:create"),
        "Create a thing",
        "Things",
        "create_thing",
        Data(ThingOut),
        status=201,
        body=Thing,
    ),
    Operation(
        "GET",
        "/api/v1/things",
        list_things,
        AnyToken(),
        "List things",
        "Things",
        "list_things",
        Paged(ThingOut),
        query=Filters,
    ),
    Operation(
        "DELETE",
        "/api/v1/things/{id}",
        delete_thing,
        Public(),
        "Delete a thing",
        "Things",
        "delete_thing",
        NoContent(),
        status=204,
    ),
    Operation(
        "PUT",
        "/api/v1/things/{id}",
        misdeclared,
        AnyToken(),
        "Misdeclared",
        "Things",
        "misdeclared",
        Data(ThingOut),
        body=Thing,
    ),
]


def _app(abilities: tuple[str, ...] | None) -> web.Application:
    @web.middleware
    async def caller(request: web.Request, handler: Any) -> web.StreamResponse:
        if abilities is not None:
            request[IDENTITY] = Identity(
                user_id=1, token_id=1, abilities=abilities, kind="member", expires_at=2**40
            )
        return await handler(request)

    app = create_base_app("test-service")
    app.middlewares.append(caller)
    add_operations(
        app, OPERATIONS + aliased(OPERATIONS, "/api/v1/things", "/api/v1/items", "Items")
    )
    add_document_route(app, title="Test service")
    return app


async def test_the_ability_is_checked_before_the_handler_or_the_body(aiohttp_client: Any) -> None:
    CALLS.clear()
    client = await aiohttp_client(_app(("things:read",)))
    refused = await client.post("/api/v1/things", data=b"not json")
    assert refused.status == 403
    assert "things:create" in (await refused.json())["message"]
    assert CALLS == []
    anonymous = await aiohttp_client(_app(None))
    assert (await anonymous.get("/api/v1/things")).status == 401
    assert (await anonymous.delete("/api/v1/things/1")).status == 204


async def test_handlers_read_the_declared_models(aiohttp_client: Any) -> None:
    client = await aiohttp_client(_app(("things:create",)))
    created = await client.post(
        "/api/v1/items", json={"title": "A", "items": [{"description": "x"}]}
    )
    assert created.status == 201
    assert (await created.json())["data"] == {"id": 1, "name": "A"}
    listed = await client.get("/api/v1/things", params={"search": "abc"})
    assert (await listed.json())["search"] == "abc"
    with_error = await client.put("/api/v1/things/1", json={"name": "x"})
    assert with_error.status == 500  # a programming error, caught by any test of the route


async def test_whitespace_is_not_an_empty_body(aiohttp_client: Any) -> None:
    client = await aiohttp_client(_app(("things:create",)))
    response = await client.post(
        "/api/v1/things", data=b"  \n", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400


async def test_a_wrong_method_is_405_with_allow(aiohttp_client: Any) -> None:
    client = await aiohttp_client(_app(("things:create",)))
    response = await client.patch("/api/v1/things")
    assert response.status == 405
    assert set(response.headers["Allow"].split(",")) == {"GET", "HEAD", "POST"}
    assert (await response.json())["error_code"] == "METHOD_NOT_ALLOWED"


def test_an_operation_cannot_be_declared_twice() -> None:
    app = web.Application()
    with pytest.raises(ValueError, match="declared twice"):
        add_operations(app, [OPERATIONS[0], OPERATIONS[0]])


async def test_the_served_document_is_valid_openapi_3_1(aiohttp_client: Any) -> None:
    client = await aiohttp_client(_app(None))
    document = await (await client.get(DOCUMENT_PATH)).json()
    validate(document)
    assert "success" not in document  # a plain OpenAPI document, no envelope
    create = document["paths"]["/api/v1/things"]["post"]
    assert create["x-abilities"] == ["things:create"]
    assert set(create["responses"]) == {"201", "400", "413", "422"}
    assert document["paths"]["/api/v1/things/{id}"]["delete"]["security"] == []
    assert document["paths"]["/api/v1/items"]["post"]["operationId"] == "create_thing_as_items"


def test_every_spelling_of_a_field_is_documented() -> None:
    document = build_document(OPERATIONS, title="t")
    schemas = document["components"]["schemas"]
    assert {"name", "title", "items"} <= set(schemas["Thing"]["properties"])
    assert {"label", "description"} <= set(schemas["Item"]["properties"])
    # Required under either name: a client that sends only the seed's spelling is valid.
    assert "name" not in schemas["Thing"].get("required", [])
    assert {"anyOf": [{"required": ["name"]}, {"required": ["title"]}]} in schemas["Thing"]["allOf"]
    parameters = document["paths"]["/api/v1/things"]["get"]["parameters"]
    names = {parameter["name"] for parameter in parameters}
    assert {"page", "per_page", "search", "customer", "buyer"} <= names
    assert all("null" not in str(parameter["schema"]) for parameter in parameters)


async def test_head_is_answered_wherever_get_is_through_the_same_check(aiohttp_client: Any) -> None:
    anonymous = await aiohttp_client(_app(None))
    assert (await anonymous.head("/api/v1/things")).status == 401
    client = await aiohttp_client(_app(("things:read",)))
    response = await client.head("/api/v1/things")
    assert response.status == 200
    assert await response.read() == b""
