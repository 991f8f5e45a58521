"""The public OpenAPI document: the services' own documents (generated from their route
tables) merged by the gateway. It is valid OpenAPI 3.1, it documents what the gateway really
routes, and a committed snapshot (docs/openapi.json) shows every API change in review."""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from openapi_spec_validator import validate

from gateway.reference.public import publish
from gateway.routes import ANY, LOCAL_PATHS, ROUTES, RouteSpec
from shared.contract import OPERATIONS
from shared.openapi import DOCUMENT_PATH, build_document

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "docs" / "openapi.json"
REGENERATE = "scripts/openapi-snapshot"
_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def service_documents() -> dict[str, dict[str, Any]]:
    """Each service's document as it serves it, built from its route table in-process."""
    from auth_service.app import create_app as create_auth
    from billing_service.app import create_app as create_billing
    from pdf_service.app import create_app as create_pdf

    factories: dict[str, Callable[[], web.Application]] = {
        "auth": create_auth,
        "billing": create_billing,
        "pdf": create_pdf,
    }
    return {
        name: build_document(factory().get(OPERATIONS, []), title=name)
        for name, factory in factories.items()
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return service_documents()


@pytest.fixture(scope="module")
def document(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return publish(documents)


def test_the_snapshot_is_the_document(document: dict[str, Any]) -> None:
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(render(document))
    assert SNAPSHOT.read_text() == render(document), (
        f"The public API changed: run {REGENERATE} and commit docs/openapi.json with the change"
    )


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_has_a_unique_id_a_summary_and_its_path_parameters(
    document: dict[str, Any],
) -> None:
    ids = [operation.get("operationId") for _, _, operation in _operations(document)]
    assert None not in ids and len(ids) == len(set(ids))
    for method, path, operation in _operations(document):
        declared = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
        assert declared == set(_PARAMETER.findall(path)), (method, path)
        assert operation["summary"] and operation["tags"], (method, path)


def _shape(path: str) -> str:
    """A path with its parameters unnamed (the gateway and a service may name them apart)."""
    return _PARAMETER.sub("{}", path)


def _pattern(spec_path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{\w+:\\\.\\\*\\\}", ".*", re.escape(spec_path))
    return re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", regex) + "$")


def _route_for(method: str, path: str) -> RouteSpec | None:
    """The gateway route a request reaches (the first spec whose path and method match, as
    aiohttp resolves the table)."""
    concrete = _PARAMETER.sub("1", path)
    for spec in ROUTES:
        if _pattern(spec.path).match(concrete) and (
            spec.methods == ANY or method.upper() in spec.methods
        ):
            return spec
    return None


def test_every_documented_operation_reaches_the_service_that_documents_it(
    documents: dict[str, dict[str, Any]],
) -> None:
    for service, own in documents.items():
        for method, path, _ in _operations(publish({service: own})):
            spec = _route_for(method, path)
            expected = "local" if path in LOCAL_PATHS else service
            assert spec is not None and spec.upstream == expected, (method, path, service)


def test_every_route_the_gateway_names_is_documented_with_the_same_methods(
    document: dict[str, Any],
) -> None:
    """The gateway answers 405 for a method its table does not list on a path: the methods
    documented there must be exactly those (HEAD too: pdf-service declares it for files)."""
    for spec in ROUTES:
        if spec.methods == ANY or spec.path in LOCAL_PATHS - {"/api/v1/openapi.json", "/docs"}:
            continue
        documented = {
            method.upper()
            for path, item in document["paths"].items()
            if _shape(path) == _shape(spec.path)
            for method in item
        }
        named = {method for other in ROUTES if other.path == spec.path for method in other.methods}
        assert documented == named, spec.path


# --- the served document --------------------------------------------------------------------


@pytest.fixture
async def document_servers(
    documents: dict[str, dict[str, Any]],
) -> AsyncIterator[dict[str, str]]:
    """Each service's document served on its internal route, as the services serve it."""
    servers = {}
    for name, own in documents.items():
        app = web.Application()

        async def serve(_: web.Request, own: dict[str, Any] = own) -> web.Response:
            return web.json_response(own)

        app.router.add_get(DOCUMENT_PATH, serve)
        servers[name] = TestServer(app)
        await servers[name].start_server()
    yield {name: str(server.make_url("")).rstrip("/") for name, server in servers.items()}
    for server in servers.values():
        await server.close()


async def test_the_gateway_serves_the_snapshot(gateway, document_servers) -> None:
    client = await gateway(
        auth_url=document_servers["auth"],
        billing_url=document_servers["billing"],
        pdf_url=document_servers["pdf"],
    )
    for path in ("/api/v1/openapi.json", "/api/openapi.json"):
        response = await client.get(path)
        assert response.status == 200
        assert "X-RateLimit-Remaining" in response.headers
        assert await response.json() == json.loads(SNAPSHOT.read_text()), (
            f"run {REGENERATE} and commit docs/openapi.json"
        )
