"""Quotes and estimates through their lifecycle and conversion, scheduling, soft deletion,
lists (filters, sort, cursor, exact totals) and bad input on create."""

from __future__ import annotations

import pytest

from billing_service.platform.keys import POOL

from ..helpers.invoices import body_for


async def test_quote_lifecycle_and_conversion(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    status, quote = await api(
        "POST", "/api/v1/quotes", h, body_for(setup, valid_until="2025-07-01", subject="Redesign")
    )
    assert status == 201
    q = quote["data"]
    assert (q["type"], q["label"], q["total"]) == ("quote", "QUO-0001", "1100.00")
    assert (q["stage"], q["validuntil"], q["tax1"]) == (
        "draft",
        "2025-07-01",
        "100.00",
    )  # INNOVATECH names
    status, _ = await api("POST", f"/api/v1/invoices/{q['id']}/send", h, {"template": "quote"})
    status, sent = await api("GET", f"/api/v1/quotes/{q['id']}", h)
    assert sent["data"]["status"] == "sent"
    status, approved = await api("POST", f"/api/v1/invoices/{q['id']}/approve", h, {})
    assert approved["data"]["status"] == "approved"
    status, converted = await api(
        "POST", f"/api/v1/invoices/{q['id']}/convert", h, {"type": "invoice"}
    )
    assert status == 201
    invoice = converted["data"]
    assert (invoice["type"], invoice["label"], invoice["total"]) == (
        "invoice",
        "INV-0001",
        "1100.00",
    )
    assert [item["label"] for item in invoice["items"]] == ["Design"]
    status, source = await api("GET", f"/api/v1/quotes/{q['id']}", h)
    assert source["data"]["status"] == "converted"
    assert (await api("POST", f"/api/v1/invoices/{q['id']}/convert", h, {"type": "invoice"}))[
        0
    ] == 409
    # An invoice is not a quote: the quote routes do not show it.
    assert (await api("GET", f"/api/v1/quotes/{invoice['id']}", h))[0] == 404
    for method in ("PUT", "DELETE"):  # nor change or delete it
        assert (await api(method, f"/api/v1/quotes/{invoice['id']}", h, {"notes": "x"}))[0] == 404
    status, still = await api("GET", f"/api/v1/invoices/{invoice['id']}", h)
    assert still["data"]["notes"] is None


async def test_estimates_decline_and_convert_to_invoice(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    _, first = await api("POST", "/api/v1/estimates", h, body_for(setup))
    _, second = await api("POST", "/api/v1/estimates", h, body_for(setup))
    status, declined = await api("POST", f"/api/v1/invoices/{first['data']['id']}/decline", h, {})
    assert declined["data"]["status"] == "declined"
    status, rejected = await api("GET", "/api/v1/estimates?status=rejected", h)
    assert [e["id"] for e in rejected["data"]] == [first["data"]["id"]]
    assert rejected["data"][0]["status"] == "rejected"  # InvoiceFlow's name
    status, answer = await api(
        "POST", f"/api/v1/estimates/{second['data']['id']}/convert-to-invoice", h
    )
    assert status == 201
    assert answer["message"] == "Estimate converted to invoice"
    assert answer["data"]["invoice_number"] == "INV-0001"
    status, invoice = await api("GET", f"/api/v1/invoices/{answer['data']['invoice_id']}", h)
    assert invoice["data"]["type"] == "invoice"


async def test_convert_to_recurring_keeps_the_label_as_invoicemee_shows(api, make_setup):
    setup = await make_setup()
    _, created = await api(
        "POST", "/api/v1/invoices", setup.headers, body_for(setup, label="INV-2025-001")
    )
    status, recurring = await api(
        "POST",
        f"/api/v1/invoices/{created['data']['id']}/convert",
        setup.headers,
        {"type": "recurring", "recurring": "monthly", "scheduled_date": "2025-07-01"},
    )
    assert status == 201
    data = recurring["data"]
    assert (data["type"], data["label"], data["recurring"], data["scheduled_date"]) == (
        "recurring",
        "INV-2025-001",  # InvoiceMee's example answer: the label is free among templates
        "monthly",
        "2025-07-01",
    )
    status, again = await api(
        "POST",
        f"/api/v1/invoices/{created['data']['id']}/convert",
        setup.headers,
        {"type": "recurring", "recurring": "monthly"},
    )
    assert status == 201 and again["data"]["label"] == "REC-0001"  # now taken: numbered
    status, missing = await api(
        "POST",
        f"/api/v1/invoices/{created['data']['id']}/convert",
        setup.headers,
        {"type": "recurring"},
    )
    assert status == 422 and "recurring" in missing["errors"]


async def test_schedule_due_and_period(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    _, created = await api("POST", "/api/v1/invoices", h, body_for(setup))
    invoice_id = created["data"]["id"]
    status, scheduled = await api(
        "POST",
        f"/api/v1/invoices/{invoice_id}/set-schedule-date",
        h,
        {"scheduled_date": "2025-06-10"},
    )
    assert (scheduled["data"]["status"], scheduled["data"]["scheduled_date"]) == (
        "scheduled",
        "2025-06-10",
    )
    status, body = await api(
        "POST", f"/api/v1/invoices/{invoice_id}/set-due-date", h, {"due_date": "2025-06-01"}
    )
    assert status == 422 and "due_date" in body["errors"]
    status, due = await api(
        "POST", f"/api/v1/invoices/{invoice_id}/set-due-date", h, {"due_date": "2025-07-31"}
    )
    assert due["data"]["due_date"] == "2025-07-31"
    status, period = await api(
        "POST",
        f"/api/v1/invoices/{invoice_id}/set-period",
        h,
        {"period": "2025-06-01 - 2025-06-30"},
    )
    assert period["data"]["period"] == "2025-06-01 - 2025-06-30"
    status, now_due = await api(
        "POST",
        f"/api/v1/invoices/{invoice_id}/set-schedule-date",
        h,
        {"scheduled_date": "2025-06-10", "due_now": True},
    )
    assert now_due["data"]["status"] == "due"
    assert "pay" in now_due["data"]["available_actions"]


async def test_soft_delete_keeps_the_number(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    _, first = await api("POST", "/api/v1/invoices", h, body_for(setup))
    assert (await api("DELETE", f"/api/v1/invoices/{first['data']['id']}", h))[0] == 204
    assert (await api("GET", f"/api/v1/invoices/{first['data']['id']}", h))[0] == 404
    _, second = await api("POST", "/api/v1/invoices", h, body_for(setup))
    assert second["data"]["label"] == "INV-0002"


async def test_list_filters_sort_and_cursor(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    for day in range(1, 8):
        await api(
            "POST",
            "/api/v1/invoices",
            h,
            body_for(setup, scheduled_date=f"2025-05-0{day}", due_date=f"2025-05-1{day}"),
        )
    _, quote = await api("POST", "/api/v1/quotes", h, body_for(setup))
    _, overdue = await api(
        "POST",
        "/api/v1/invoices",
        h,
        body_for(setup, scheduled_date="2020-01-01", due_date="2020-01-31"),
    )
    await api(
        "POST", f"/api/v1/invoices/{overdue['data']['id']}/send", h, {"template": "invoice-issued"}
    )
    status, page = await api("GET", "/api/v1/invoices?type=invoice&per_page=3", h)
    assert page["meta"]["total"] == 8 and page["meta"]["last_page"] == 3
    assert [i["label"] for i in page["data"]] == ["INV-0008", "INV-0007", "INV-0006"]
    assert page["data"][0]["customer"]["name"] == "Client Corp"
    status, found = await api("GET", "/api/v1/invoices?status=overdue", h)
    assert [i["id"] for i in found["data"]] == [overdue["data"]["id"]]
    status, found = await api("GET", "/api/v1/invoices?search=client%20corp&type=quote", h)
    assert [i["id"] for i in found["data"]] == [quote["data"]["id"]]
    status, found = await api(
        "GET", "/api/v1/invoices?from=2025-05-02&to=2025-05-04&sort=issue_date", h
    )
    assert [i["issue_date"] for i in found["data"]] == ["2025-05-02", "2025-05-03", "2025-05-04"]
    status, found = await api(
        "GET", f"/api/v1/invoices?customer_id={setup.recipient_id}&status=sent", h
    )
    assert [i["id"] for i in found["data"]] == [overdue["data"]["id"]]
    seen, cursor = [], None
    while True:
        query = "/api/v1/invoices?per_page=4&sort=-issue_date" + (
            f"&cursor={cursor}" if cursor else ""
        )
        status, page = await api("GET", query, h)
        assert status == 200
        seen += [i["id"] for i in page["data"]]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 9
    assert (await api("GET", "/api/v1/invoices?cursor=garbage!!", h))[0] == 400
    assert (await api("GET", "/api/v1/invoices?status=bogus", h))[0] == 422
    assert (await api("GET", "/api/v1/invoices?sort=password", h))[0] == 422


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": [{"label": "x", "quantity": -1, "price": 1}]}, "items.0.quantity"),
        ({"items": [{"label": "x", "quantity": "lots", "price": 1}]}, "items.0.quantity"),
        ({"items": [{"label": "x", "quantity": 1, "price": "cheap"}]}, "items.0.price"),
        ({"items": [{"label": "x", "quantity": 1, "price": 1e30}]}, "items.0.price"),
        ({"items": [{"quantity": 1, "price": 1}]}, "items.0.label"),
        (
            {"items": [{"label": "x", "quantity": 1, "price": 10, "discount": 11}]},
            "items.0.discount",
        ),
        (
            {"items": [{"label": "x", "quantity": 1, "price": 10, "tax_percentage": 101}]},
            "items.0.tax_percentage",
        ),
        ({"items": "none"}, "items"),
        ({"scheduled_date": "2025-13-45"}, "scheduled_date"),
        ({"scheduled_date": "tomorrow"}, "scheduled_date"),
        ({"due_date": "2025-05-01"}, "due_date"),
        ({"currency": "ZZZ"}, "currency"),
        ({"currency": 840}, "currency"),
        ({"type": "receipt"}, "type"),
        # Issue 9: every documented initial status imports; these cannot be reached.
        ({"status": "due"}, "status"),
        ({"status": "declined"}, "status"),
        ({"paid_at": "2025-06-01"}, "paid_at"),
        ({"invoicer_id": "one"}, "invoicer_id"),
        ({"invoicer_id": 99999999}, "invoicer_id"),
        ({"invoice_recipient_id": 2**70}, "invoice_recipient_id"),
        ({"type": "recurring"}, "recurring"),
        ({"label": ""}, "label"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    api, make_setup, billing, change, field
):
    setup = await make_setup()
    before = await billing.app[POOL].fetchval(
        "SELECT count(*) FROM invoices WHERE company_id = $1", setup.company_id
    )
    status, body = await api("POST", "/api/v1/invoices", setup.headers, body_for(setup, **change))
    assert status == 422, body
    assert field in body["errors"], body
    after = await billing.app[POOL].fetchval(
        "SELECT count(*) FROM invoices WHERE company_id = $1", setup.company_id
    )
    assert after == before


async def test_list_totals_stay_exact_through_every_change(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    ids = []
    for _ in range(4):
        _, created = await api("POST", "/api/v1/invoices", h, body_for(setup))
        ids.append(created["data"]["id"])
    await api("POST", "/api/v1/quotes", h, body_for(setup))
    await api("POST", f"/api/v1/invoices/{ids[0]}/approve", h, {})
    await api("POST", f"/api/v1/invoices/{ids[1]}/cancel", h)
    await api("DELETE", f"/api/v1/invoices/{ids[2]}", h)
    await api("POST", f"/api/v1/invoices/{ids[3]}/convert", h, {"type": "template"})

    async def total_and_rows(query: str) -> tuple[int, int]:
        _, page = await api("GET", f"/api/v1/invoices?per_page=100{query}", h)
        return page["meta"]["total"], len(page["data"])

    for query in (
        "",
        "&type=invoice",
        "&type=quote",
        "&status=draft",
        "&status=approved",
        "&status=cancelled",
        "&type=template&status=draft",
        f"&company_id={setup.company_id}",
        "&search=INV",
        "&from=2025-01-01",
    ):
        total, rows = await total_and_rows(query)
        assert total == rows, query
