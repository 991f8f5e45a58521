"""pdf-service: rendering once per snapshot, signed links, the public files route."""

from __future__ import annotations

import io
import time
import uuid

import pytest
from pypdf import PdfReader

from pdf_service.app import create_app
from pdf_service.keys import DOCUMENTS, POOL
from pdf_service.settings import Settings

SECRET = {"X-Internal-Secret": "test-internal-secret-0123456789"}
SNAPSHOT = {
    "label": "INV-0042",
    "title": "Invoice",
    "status": "Approved",
    "issue_date": "1 June 2025",
    "due_date": "30 June 2025",
    "invoicer": {"name": "Acme Ltd", "address": "123 Main St", "tax_number": "US-1"},
    "recipient": {"name": "Ködmön Kft.", "address": "Fő utca 1, Budapest"},
    "items": [
        {
            "label": "Web development",
            "quantity": "40",
            "unit": "hour",
            "price": "$150.00",
            "tax": "20%",
            "total": "$6,000.00",
        }
    ],
    "totals": {
        "subtotal": "$6,000.00",
        "tax": "$1,200.00",
        "total": "$7,200.00",
        "amount_paid": "$0.00",
        "balance_due": "$7,200.00",
    },
}


@pytest.fixture
async def pdf(aiohttp_client, database_urls, jwks_url):
    settings = Settings(
        environment="test",
        database_url=database_urls["pdf"],
        auth_jwks_url=jwks_url,
        internal_secret="test-internal-secret-0123456789",
        url_signing_secret="test-url-signing-secret-0123456789",
        render_workers=2,
        log_json=False,
    )
    return await aiohttp_client(create_app(settings))


async def render(pdf, snapshot):
    response = await pdf.post("/internal/documents", json={"snapshot": snapshot}, headers=SECRET)
    return response.status, (await response.json())["data"]


async def link(pdf, document_id, ttl=None):
    body = {"ttl_seconds": ttl} if ttl else {}
    response = await pdf.post(f"/internal/documents/{document_id}/links", json=body, headers=SECRET)
    return (await response.json())["data"]


async def test_the_same_snapshot_renders_once(pdf):
    snapshot = SNAPSHOT | {"label": f"INV-{uuid.uuid4().hex[:6]}"}
    status, first = await render(pdf, snapshot)
    assert status == 201 and first["rendered"] is True
    status, again = await render(pdf, dict(snapshot))
    assert (status, again["id"], again["rendered"]) == (200, first["id"], False)
    changed = await render(pdf, snapshot | {"notes": "Thanks"})
    assert changed[1]["id"] != first["id"]
    count = await pdf.app[POOL].fetchval(
        "SELECT count(*) FROM documents WHERE filename = $1", first["filename"]
    )
    assert count == 2


async def test_signed_link_serves_the_pdf_without_a_token(pdf):
    _, document = await render(pdf, SNAPSHOT)
    signed = await link(pdf, document["id"])
    response = await pdf.get(signed["path"])
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="INV-0042.pdf"'
    text = PdfReader(io.BytesIO(await response.read())).pages[0].extract_text()
    for expected in ("INV-0042", "Ködmön Kft.", "Web development", "$7,200.00"):
        assert expected in text
    assert signed["expires_at"] > time.time()


async def test_tampered_expired_and_odd_links_are_refused(pdf):
    _, document = await render(pdf, SNAPSHOT)
    signed = await link(pdf, document["id"])
    path, query = signed["path"].split("?")
    expires = int(query.split("&")[0].split("=")[1])
    signature = query.split("signature=")[1]
    tampered_time = f"{path}?expires={expires + 3600}&signature={signature}"
    tampered_sig = f"{path}?expires={expires}&signature={'0' * 64}"
    other_doc = f"/files/{uuid.uuid4()}?expires={expires}&signature={signature}"
    for url in (tampered_time, tampered_sig, other_doc, path, f"{path}?expires=abc&signature=x"):
        assert (await pdf.get(url)).status == 403, url
    expired = await link(pdf, document["id"], ttl=10)
    past = int(time.time()) - 1
    # An honest signature over a past expiry is refused too.
    sig = pdf.app[DOCUMENTS]._sign(uuid.UUID(document["id"]), past)
    assert (await pdf.get(f"{path}?expires={past}&signature={sig}")).status == 403
    assert (await pdf.get(expired["path"])).status == 200
    for odd in ("/files/not-a-uuid", "/files/..%2F..%2Fetc%2Fpasswd", "/files/%00"):
        assert (await pdf.get(odd)).status == 404, odd


async def test_internal_routes_need_the_service_secret(pdf):
    response = await pdf.post("/internal/documents", json={"snapshot": SNAPSHOT})
    assert response.status == 401
    response = await pdf.post(
        "/internal/documents", json={"snapshot": SNAPSHOT}, headers={"X-Internal-Secret": "guess"}
    )
    assert response.status == 401


async def test_renders_run_in_parallel_processes(pdf):
    import asyncio

    snapshots = [
        SNAPSHOT | {"label": f"PAR-{uuid.uuid4().hex[:8]}", "items": SNAPSHOT["items"] * 60}
        for _ in range(4)
    ]
    results = await asyncio.gather(*(render(pdf, snapshot) for snapshot in snapshots))
    assert [status for status, _ in results] == [201] * 4
    _, raw_doc = results[0]
    response = await pdf.get(f"/internal/documents/{raw_doc['id']}", headers=SECRET)
    pages = PdfReader(io.BytesIO(await response.read())).pages
    assert len(pages) >= 2
    assert "Page 1 of" in pages[0].extract_text()
