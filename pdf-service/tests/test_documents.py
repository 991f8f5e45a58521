"""pdf-service: rendering once per snapshot, signed links, the public files route."""

from __future__ import annotations

import io
import json
import time
import uuid

import pytest
from pypdf import PdfReader

from pdf_service.app import create_app
from pdf_service.keys import DOCUMENTS, POOL
from shared.errors import ValidationFailed

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
async def pdf(aiohttp_client, pdf_settings):
    return await aiohttp_client(create_app(pdf_settings()))


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


# --- issue 8: bounded inputs --------------------------------------------------------------


async def test_signed_url_numbers_are_ascii_digits_of_bounded_length(pdf):
    _, document = await render(pdf, SNAPSHOT)
    signed = await link(pdf, document["id"])
    path, query = signed["path"].split("?")
    expires = query.split("&")[0].split("=")[1]
    signature = query.split("signature=")[1]
    # '²'.isdigit() is true but int('²') raises; int() reads Arabic-Indic digits as ASCII ones.
    arabic = "".join(chr(0x0660 + int(digit)) for digit in expires)
    odd_expiries = ["²", "%C2%B2", arabic, "9" * 40, "+" + expires, expires + "%00", "-1"]
    for odd in odd_expiries:
        response = await pdf.get(f"{path}?expires={odd}&signature={signature}")
        answer = await response.json()
        assert response.status == 403, (odd, answer)
        assert answer["error_code"] == "FORBIDDEN"
    for odd_signature in ("%ED%A0%80", "%00" * 64, signature.upper(), signature + "0"):
        response = await pdf.get(f"{path}?expires={expires}&signature={odd_signature}")
        assert response.status == 403, odd_signature
    assert (await pdf.get(signed["path"])).status == 200


async def post_snapshot(pdf, raw: str):
    response = await pdf.post(
        "/internal/documents",
        data=raw,
        headers=SECRET | {"Content-Type": "application/json"},
    )
    return response.status, await response.json()


UNDRAWABLE = [
    ({"items": "abc"}, "snapshot.items"),
    ({"items": None}, "snapshot.items"),
    ({"items": ["a line"]}, "snapshot.items.0"),
    ({"invoicer": "Acme"}, "snapshot.invoicer"),
    ({"recipient": [1]}, "snapshot.recipient"),
    ({"totals": [1]}, "snapshot.totals"),
    ({"payment_details": "x"}, "snapshot.payment_details"),
    ({"label": {"a": 1}}, "snapshot.label"),
    ({"label": 42}, "snapshot.label"),
    ({"label": "x" * 5000}, "snapshot.label"),
    ({"notes": "n" * 30_000}, "snapshot.notes"),
    ({"items": [{"label": "x"}] * 1001}, "snapshot.items"),
    ({"label": None}, "snapshot.label"),
]


async def test_a_snapshot_the_layout_cannot_draw_is_a_422(pdf):
    for change, field in UNDRAWABLE:
        status, answer = await post_snapshot(pdf, json.dumps({"snapshot": SNAPSHOT | change}))
        assert status == 422, (change, answer)
        assert answer["error_code"] == "VALIDATION_ERROR"
        assert field in answer["errors"], answer


async def test_lone_surrogates_and_missing_keys_are_a_422(pdf):
    # JSON may escape a lone surrogate; no font or PDF string can hold one.
    raw = json.dumps({"snapshot": SNAPSHOT}).replace('"INV-0042"', '"INV-\\ud800"')
    status, answer = await post_snapshot(pdf, raw)
    assert status == 422 and "snapshot.label" in answer["errors"], answer
    for missing in ("label", "items", "totals"):
        snapshot = {key: value for key, value in SNAPSHOT.items() if key != missing}
        status, answer = await post_snapshot(pdf, json.dumps({"snapshot": snapshot}))
        assert status == 422 and f"snapshot.{missing}" in answer["errors"], answer


async def test_a_render_failure_is_a_422_with_a_message(pdf):
    """Past validation the layout should not fail; if it does, that input is refused, the
    service stays up. Shown with a shape only the model stops: the service given it directly."""
    with pytest.raises(ValidationFailed) as caught:
        await pdf.app[DOCUMENTS].render(SNAPSHOT | {"items": "not a list of lines"})
    assert caught.value.status == 422
    assert caught.value.errors == {
        "snapshot": ["The document could not be drawn (AttributeError)."]
    }
    status, _ = await render(pdf, SNAPSHOT | {"label": f"AFTER-{uuid.uuid4().hex[:6]}"})
    assert status == 201
