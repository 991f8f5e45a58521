"""The envelope (docs/api.md), applied once for every service: each JSON object answered carries
`success` (true on 2xx, false on errors), and errors also `error`, the lower-case code."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from pydantic import BaseModel

from shared.errors import Conflict, RateLimited, ValidationFailed
from shared.pagination import PUBLIC_BASE_URL, Page, PageParams, paginated
from shared.validation import parse_body
from shared.web import create_base_app, json_response, with_success_bytes


class Named(BaseModel):
    name: str


async def _created(_: web.Request) -> web.Response:
    return json_response({"data": {"id": 1}}, status=201)


async def _acknowledged(_: web.Request) -> web.Response:
    return json_response({"message": "Logged out successfully"})


async def _listing(request: web.Request) -> web.Response:
    return json_response(paginated(request, Page([1, 2], 2, PageParams())))


async def _document(_: web.Request) -> web.Response:
    return json_response({"openapi": "3.1.0", "paths": {}}, envelope=False)


async def _array(_: web.Request) -> web.Response:
    return json_response([1, 2])


async def _validated(request: web.Request) -> web.Response:
    await parse_body(request, Named)
    return web.Response(status=204)


async def _conflict(_: web.Request) -> web.Response:
    raise Conflict("Not from paid.")


async def _limited(_: web.Request) -> web.Response:
    raise RateLimited(headers={"Retry-After": "3"})


async def _boom(_: web.Request) -> web.Response:
    raise RuntimeError("boom")


async def _http_exception(_: web.Request) -> web.Response:
    raise web.HTTPGone()


@pytest.fixture
async def service(aiohttp_client: Any) -> Any:
    app = create_base_app("envelope-test")
    app[PUBLIC_BASE_URL] = "https://api.example.com"
    app.router.add_post("/created", _created)
    app.router.add_post("/acknowledged", _acknowledged)
    app.router.add_get("/api/v1/things", _listing)
    app.router.add_get("/document", _document)
    app.router.add_get("/array", _array)
    app.router.add_post("/validated", _validated)
    app.router.add_post("/conflict", _conflict)
    app.router.add_get("/limited", _limited)
    app.router.add_get("/boom", _boom)
    app.router.add_get("/gone", _http_exception)
    return await aiohttp_client(app)


async def test_successes_say_so_first(service):
    for method, path, status in (
        ("POST", "/created", 201),
        ("POST", "/acknowledged", 200),
        ("GET", "/api/v1/things", 200),
        ("GET", "/healthz", 200),
    ):
        response = await service.request(method, path)
        assert response.status == status, path
        body = json.loads(await response.text())
        assert next(iter(body)) == "success" and body["success"] is True, path
        assert "error" not in body, path
    listing = await (await service.get("/api/v1/things")).json()
    assert (listing["data"], listing["meta"]["total"]) == ([1, 2], 2)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/validated", "{}", 422, "validation_error"),
        ("POST", "/validated", "{not json", 400, "bad_request"),
        ("POST", "/conflict", None, 409, "conflict"),
        ("GET", "/limited", None, 429, "rate_limited"),
        ("GET", "/boom", None, 500, "internal_error"),
        ("GET", "/gone", None, 410, "gone"),
        ("GET", "/no/such/route", None, 404, "not_found"),
        ("DELETE", "/created", None, 405, "method_not_allowed"),
        ("POST", "/validated", "x" * (1024 * 1024 + 1), 413, "payload_too_large"),
    ],
)
async def test_errors_say_so_and_name_the_code_in_lower_case(
    service, method, path, body, status, error
):
    response = await service.request(method, path, data=body)
    answer = await response.json()
    assert response.status == status
    assert answer["success"] is False
    assert answer["error"] == error == answer["error_code"].lower()
    assert answer["message"]


async def test_validation_errors_keep_the_laravel_shape(service):
    answer = await (await service.post("/validated", data="{}")).json()
    assert answer == {
        "success": False,
        "error": "validation_error",
        "message": "The name field is required.",
        "error_code": "VALIDATION_ERROR",
        "errors": {"name": ["The name field is required."]},
    }


async def test_documents_of_their_own_format_and_arrays_are_left_alone(service):
    assert await (await service.get("/document")).json() == {"openapi": "3.1.0", "paths": {}}
    assert await (await service.get("/array")).json() == [1, 2]


async def test_no_content_has_no_body(service):
    response = await service.post("/validated", data='{"name": "x"}')
    assert (response.status, await response.read()) == (204, b"")


def test_a_payload_that_says_it_already_is_kept():
    response = json_response({"success": True, "message": "Switched"}, status=200)
    assert json.loads(response.text or "") == {"success": True, "message": "Switched"}


def test_stored_answers_get_the_envelope_on_the_way_out():
    stored = json.dumps({"data": {"id": 7}}).encode()
    assert json.loads(with_success_bytes(stored, 201, "application/json") or b"") == {
        "success": True,
        "data": {"id": 7},
    }
    error = json.dumps({"message": "x", "error_code": "CONFLICT"}).encode()
    assert json.loads(with_success_bytes(error, 409, "application/json") or b"") == {
        "success": False,
        "error": "conflict",
        "message": "x",
        "error_code": "CONFLICT",
    }
    already = json.dumps({"success": True, "data": {}}).encode()
    assert with_success_bytes(already, 200, "application/json") == already
    assert with_success_bytes(b"%PDF", 200, "application/pdf") == b"%PDF"
    assert with_success_bytes(None, 200, None) is None


def test_validation_failed_body_names_the_first_error():
    body = ValidationFailed({"email": ["Taken."]}).body()
    assert (body["success"], body["error"], body["message"]) == (
        False,
        "validation_error",
        "Taken.",
    )
