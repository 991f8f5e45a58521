"""The envelope (docs/api.md) on billing-service's answers: `success` on any JSON object, `error` on
errors, stored Idempotency-Key answers replayed with it (those kept before it existed too)."""

from __future__ import annotations

import json
from typing import Any

from billing_service.platform.keys import POOL


async def test_every_billing_answer_says_whether_it_succeeded(api, make_setup, helpers, billing):
    setup, stranger = await make_setup(), await make_setup()
    h = setup.headers
    invoice_id = await helpers.invoice(billing, setup)
    for method, path, body, status in (
        ("GET", "/api/v1/invoices", None, 200),
        ("GET", f"/api/v1/invoices/{invoice_id}", None, 200),
        ("GET", "/api/v1/customers", None, 200),
        ("GET", "/api/v1/teams", None, 200),
        ("POST", "/api/v1/products", {"name": "Desk"}, 201),
        ("POST", f"/api/v1/invoices/{invoice_id}/send", {"template": "invoice-issued"}, 200),
        ("GET", f"/api/v1/invoices/{invoice_id}/members", None, 200),
    ):
        answer = await api(method, path, h, body)
        assert answer[0] == status and answer[1]["success"] is True, (path, answer)
        assert "error" not in answer[1], path
    for method, path, body, status, error in (
        ("GET", "/api/v1/invoices/999999999", None, 404, "not_found"),
        ("POST", "/api/v1/products", {"price": "x"}, 422, "validation_error"),
        ("POST", f"/api/v1/invoices/{invoice_id}/decline", {}, 409, "conflict"),
        (
            "POST",
            "/api/v1/invoices",
            {"company_id": stranger.company_id},
            403,
            "company_access_denied",
        ),
        (
            "POST",
            f"/api/v1/invoices/{invoice_id}/send-payment-link",
            None,
            409,
            "payment_provider_not_configured",
        ),
    ):
        answer = await api(method, path, h, body)
        assert answer[0] == status, (path, answer)
        assert (answer[1]["success"], answer[1]["error"]) == (False, error), path
    _, product = await api("POST", "/api/v1/products", h, {"name": "Chair"})
    assert await api("DELETE", f"/api/v1/products/{product['data']['id']}", h) == (204, None)


async def _post_twice(billing: Any, path: str, body: Any, headers: dict[str, str]) -> list[Any]:
    answers = []
    for _ in range(2):
        response = await billing.post(path, json=body, headers=headers)
        answers.append((response.status, response.headers, await response.json()))
    return answers


async def test_replayed_answers_carry_the_envelope(billing, auth, make_setup):
    setup = await make_setup()
    keyed = setup.headers | {"Idempotency-Key": "envelope-1"}
    (status, _, first), (again, headers, replayed) = await _post_twice(
        billing, "/api/v1/products", {"name": "Lamp"}, keyed
    )
    assert (status, again, headers["Idempotent-Replayed"]) == (201, 201, "true")
    assert replayed == first and replayed["success"] is True
    # A refusal is stored and replayed as one.
    keyed = setup.headers | {"Idempotency-Key": "envelope-2"}
    (status, _, first), (again, _, replayed) = await _post_twice(
        billing, "/api/v1/products", {"name": ""}, keyed
    )
    assert (status, again) == (422, 422) and replayed == first
    assert (replayed["success"], replayed["error"]) == (False, "validation_error")
    # A generated password is never kept: the replay is the answer without it, enveloped.
    path = f"/api/v1/recipients/{setup.recipient_id}/contacts"
    invite = {"email": f"envelope-{setup.company_id}@client.example", "name": "Jane"}
    keyed = setup.headers | {"Idempotency-Key": "envelope-3"}
    (_, _, first), (_, _, replayed) = await _post_twice(billing, path, invite, keyed)
    assert first["success"] is True and first["data"]["password"]
    assert replayed == first | {"data": first["data"] | {"password": None}}


async def test_answers_stored_before_the_envelope_get_it_when_replayed(billing, make_setup):
    setup = await make_setup()
    keyed = setup.headers | {"Idempotency-Key": "legacy-1"}
    response = await billing.post("/api/v1/products", json={"name": "Old"}, headers=keyed)
    first = await response.json()
    legacy = {key: value for key, value in first.items() if key != "success"}
    await billing.app[POOL].execute(
        "UPDATE idempotency_keys SET body = $1 WHERE key = 'legacy-1'", json.dumps(legacy).encode()
    )
    replay = await billing.post("/api/v1/products", json={"name": "Old"}, headers=keyed)
    assert replay.headers["Idempotent-Replayed"] == "true"
    replayed = await replay.json()
    assert replayed == first and replayed["success"] is True
