"""pdf-service's operation table is its contract: the document it serves is valid OpenAPI,
real answers match it, and who may call each operation is what the table declares."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from openapi_spec_validator import validate

from pdf_service.routes import OPERATIONS, SignedLinkHolder
from shared.openapi import DOCUMENT_PATH, openapi_path
from shared.service_access import InternalSecret

from .facturx_sample import CII_SAMPLE

SECRET = {"X-Internal-Secret": "test-internal-secret-0123456789"}
TABLE = {(operation.method, openapi_path(operation.path)) for operation in OPERATIONS}
FILES = ("application/pdf", "application/xml")


def snapshot() -> dict[str, Any]:
    return {"label": f"C-{uuid.uuid4().hex[:8]}", "items": [{"label": "Work"}], "totals": {}}


async def test_the_served_document_is_valid_openapi_3_1_with_every_operation(pdf):
    response = await pdf.get(DOCUMENT_PATH)
    assert response.status == 200
    document = await response.json()
    validate(document)
    served = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert served == TABLE
    files = document["paths"]["/files/{document_id}"]["get"]
    assert files["security"] == [] and "application/pdf" in files["responses"]["200"]["content"]
    parameters = {parameter["name"]: parameter for parameter in files["parameters"]}
    assert parameters["document_id"]["schema"] == {"type": "string", "format": "uuid"}
    assert parameters["expires"]["required"] and parameters["signature"]["required"]
    render = document["paths"]["/internal/documents"]["post"]["responses"]
    assert {"200", "201"} <= set(render)


async def test_every_operation_answers_as_documented(pdf, answer_schemas):
    document = await (await pdf.get(DOCUMENT_PATH)).json()
    schemas = answer_schemas(document)

    async def call(method: str, route: str, status: int, path: str = "", **kwargs: Any) -> Any:
        response = await pdf.request(method, path or route, **kwargs)
        assert response.status == status, (method, path or route, await response.text())
        documented = document["paths"][route][method.lower()]["responses"]
        if method == "HEAD" or response.content_type in FILES:
            # No JSON to check: the status is documented, and a file is documented as one.
            assert str(status) in documented
            if response.content_type in FILES:
                assert response.content_type in documented[str(status)]["content"]
            schemas.checked.add((method, route))
            return await response.read()
        body = await response.json()
        schemas.check(method, route, status, body)
        return body

    drawn = snapshot()
    created = await call(
        "POST", "/internal/documents", 201, json={"snapshot": drawn}, headers=SECRET
    )
    again = await call("POST", "/internal/documents", 200, json={"snapshot": drawn}, headers=SECRET)
    assert again["data"]["id"] == created["data"]["id"]
    await call("POST", "/internal/documents", 422, json={"snapshot": {}}, headers=SECRET)
    document_id = created["data"]["id"]
    route = "/internal/documents/{document_id}/links"
    links = f"/internal/documents/{document_id}/links"
    signed = await call("POST", route, 200, links, json={}, headers=SECRET)
    await call("POST", route, 200, links, headers=SECRET)  # the body may be left out
    await call("POST", route, 404, f"/internal/documents/{uuid.uuid4()}/links", headers=SECRET)
    route = "/internal/documents/{document_id}"
    raw = await call("GET", route, 200, f"/internal/documents/{document_id}", headers=SECRET)
    assert raw.startswith(b"%PDF")
    public = await call("GET", "/files/{document_id}", 200, signed["data"]["path"])
    assert public == raw
    assert await call("HEAD", "/files/{document_id}", 200, signed["data"]["path"]) == b""
    await call("HEAD", "/files/{document_id}", 403, f"/files/{document_id}")
    await call("GET", "/files/{document_id}", 403, f"/files/{document_id}")
    await call("GET", "/files/{document_id}", 404, "/files/not-a-uuid")

    route = "/internal/documents/{document_id}/facturx"
    facturx = {"xml": CII_SAMPLE, "filename": "C-1-facturx.pdf"}
    path = f"/internal/documents/{document_id}/facturx"
    await call("POST", route, 201, path, json=facturx, headers=SECRET)
    await call("POST", route, 200, path, json=facturx, headers=SECRET)
    await call("POST", route, 422, path, json={"xml": ""}, headers=SECRET)
    unknown = f"/internal/documents/{uuid.uuid4()}/facturx"
    await call("POST", route, 404, unknown, json=facturx, headers=SECRET)
    stored = {"filename": "C-1.xml", "media_type": "application/xml", "text": CII_SAMPLE}
    xml = await call("POST", "/internal/files", 201, json=stored, headers=SECRET)
    await call("POST", "/internal/files", 200, json=stored, headers=SECRET)
    html = stored | {"media_type": "text/html"}
    await call("POST", "/internal/files", 422, json=html, headers=SECRET)
    xml_id = xml["data"]["id"]
    raw_xml = await call(
        "GET",
        "/internal/documents/{document_id}",
        200,
        f"/internal/documents/{xml_id}",
        headers=SECRET,
    )
    assert raw_xml == CII_SAMPLE.encode()

    assert schemas.checked == TABLE


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.operation_id)
async def test_the_declared_access_is_the_enforced_one(pdf, operation):
    """Every operation of pdf-service needs no token: the internal ones want the service's
    secret, a file its signed link; a token (whatever its abilities) replaces neither."""
    created = await pdf.post("/internal/documents", json={"snapshot": snapshot()}, headers=SECRET)
    document_id = (await created.json())["data"]["id"]
    url = re.sub(r"\{document_id\}", document_id, operation.path)

    async def status(headers: dict[str, str]) -> int:
        return (await pdf.request(operation.method, url, json={}, headers=headers)).status

    assert operation.access.public
    if isinstance(operation.access, InternalSecret):
        assert await status({}) == 401
        assert await status({"X-Internal-Secret": "guess"}) == 401
        assert await status(SECRET) not in (401, 403)
    else:
        assert isinstance(operation.access, SignedLinkHolder)
        assert await status({}) == 403
        link = await pdf.post(f"/internal/documents/{document_id}/links", headers=SECRET)
        signed_path = (await link.json())["data"]["path"]
        assert (await pdf.get(signed_path)).status == 200


async def test_a_method_a_path_does_not_have_is_405_with_allow(pdf):
    document_id = uuid.uuid4()
    for path, method, allowed in (
        (f"/files/{document_id}", "POST", {"GET", "HEAD"}),
        (f"/internal/documents/{document_id}", "DELETE", {"GET", "HEAD"}),
        ("/internal/documents", "GET", {"POST"}),
    ):
        response = await pdf.request(method, path)
        assert response.status == 405, path
        assert set(response.headers["Allow"].split(",")) == allowed
    assert (await pdf.get("/documents/anything")).status == 401  # no such path: a token first
