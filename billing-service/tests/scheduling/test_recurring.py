"""RecurringService against real PostgreSQL: create-next bills consecutive periods exactly once,
run limits and cancelled templates stop."""

from __future__ import annotations

import asyncio
from datetime import date

from billing_service.platform.keys import POOL

from ..helpers.recurring import children, template_body


async def test_create_next_bills_consecutive_periods(api, make_setup, billing):
    setup = await make_setup()
    status, created = await api("POST", "/api/v1/invoices", setup.headers, template_body(setup))
    assert status == 201 and created["data"]["next_run_date"] == "2025-01-31"
    template_id = created["data"]["id"]
    first = await api("POST", f"/api/v1/invoices/{template_id}/create-next", setup.headers)
    second = await api("POST", f"/api/v1/invoices/{template_id}/create-next", setup.headers)
    assert (first[0], second[0]) == (201, 201)
    one, two = first[1]["data"], second[1]["data"]
    assert (one["type"], one["status"], one["invoice_parent_id"]) == (
        "invoice",
        "draft",
        template_id,
    )
    assert (one["period"], one["scheduled_date"], one["due_date"]) == (
        "2025-01-31 - 2025-02-27",
        "2025-01-31",
        "2025-02-14",
    )
    assert (two["period"], two["scheduled_date"], two["due_date"]) == (
        "2025-02-28 - 2025-03-30",
        "2025-02-28",
        "2025-03-14",
    )  # 14 days' terms kept
    assert one["total"] == two["total"] == "1200.00" and len(two["items"]) == 1
    status, template = await api("GET", f"/api/v1/invoices/{template_id}", setup.headers)
    assert (template["data"]["next_run_date"], template["data"]["run_count"]) == ("2025-03-31", 2)


async def test_concurrent_create_next_yields_one_child_per_period(api, make_setup, billing):
    setup = await make_setup()
    _, created = await api("POST", "/api/v1/invoices", setup.headers, template_body(setup))
    template_id = created["data"]["id"]
    results = await asyncio.gather(
        *(
            api("POST", f"/api/v1/invoices/{template_id}/create-next", setup.headers)
            for _ in range(8)
        )
    )
    assert [status for status, _ in results] == [201] * 8
    rows = await children(billing.app[POOL], template_id)
    starts = [row["period_start"] for row in rows]
    assert starts == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
        date(2025, 5, 31),
        date(2025, 6, 30),
        date(2025, 7, 31),
        date(2025, 8, 31),
    ]


async def test_run_limits_and_cancelled_templates_stop(api, make_setup):
    setup = await make_setup()
    _, limited = await api(
        "POST", "/api/v1/invoices", setup.headers, template_body(setup, max_runs=2)
    )
    path = f"/api/v1/invoices/{limited['data']['id']}/create-next"
    assert [(await api("POST", path, setup.headers))[0] for _ in range(3)] == [201, 201, 409]
    _, ending = await api(
        "POST",
        "/api/v1/invoices",
        setup.headers,
        template_body(
            setup,
            recurring="weekly",
            scheduled_date="2025-01-01",
            due_date=None,
            end_date="2025-01-10",
        ),
    )
    path = f"/api/v1/invoices/{ending['data']['id']}/create-next"
    assert [(await api("POST", path, setup.headers))[0] for _ in range(3)] == [201, 201, 409]
    _, cancelled = await api("POST", "/api/v1/invoices", setup.headers, template_body(setup))
    await api("POST", f"/api/v1/invoices/{cancelled['data']['id']}/cancel", setup.headers)
    status, _ = await api(
        "POST", f"/api/v1/invoices/{cancelled['data']['id']}/create-next", setup.headers
    )
    assert status == 409
    status, _ = await api(
        "POST", f"/api/v1/invoices/{setup.recipient_id}/create-next", setup.headers
    )
    assert status in (404, 409)
