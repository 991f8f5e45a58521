"""The scheduler against real PostgreSQL, with time injected: races, company dates, due dates,
auto-send, catch-up bounds, and templates or invoices that fail without holding up others."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import asyncpg

from billing_service.invoices.services.records import InvoiceRecords
from billing_service.platform.keys import POOL
from billing_service.scheduling.services.recurring import RecurringService
from billing_service.scheduling.services.scheduler import Scheduler, SchedulerLimits

from ..helpers.recurring import children, template_body


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


# Catch-up without the backfill bound, for the tests of other rules (it has tests of its own).
UNBOUNDED = SchedulerLimits(
    max_attempts=5,
    catchup_per_pass=10_000,
    max_backfill=timedelta(9999),
    company_share_per_pass=10_000,
)


def scheduler_for(
    pool: asyncpg.Pool, now: datetime, limits: SchedulerLimits = UNBOUNDED
) -> Scheduler:
    clock = lambda: now  # noqa: E731 - a frozen instant
    return Scheduler(pool, RecurringService(InvoiceRecords(pool, clock)), clock, limits)


async def only_these_templates_run(pool, keep: list[int]) -> None:
    """The test database is shared: templates of earlier tests would catch up years of periods
    when a test moves time far ahead. Cancel them."""
    await pool.execute(
        "UPDATE invoices SET status = 'cancelled' WHERE type = 'recurring' AND status <> 'cancelled' "
        "AND NOT (id = ANY($1::bigint[]))",
        keep,
    )


async def test_two_schedulers_racing_bill_every_period_exactly_once(
    api, make_setup, billing, database_urls
):
    setups = [await make_setup() for _ in range(4)]
    template_ids = []
    for index in range(200):
        setup = setups[index % 4]
        _, created = await api("POST", "/api/v1/invoices", setup.headers, template_body(setup))
        template_ids.append(created["data"]["id"])
    # Another template's cancellation must stop it from running.
    await api("POST", f"/api/v1/invoices/{template_ids[-1]}/cancel", setups[3].headers)
    now = at("2025-06-15")
    await only_these_templates_run(billing.app[POOL], template_ids)
    pools = [
        await asyncpg.create_pool(database_urls["billing"], min_size=2, max_size=4)
        for _ in range(2)
    ]
    try:
        runs = await asyncio.gather(*(scheduler_for(pool, now).run_once() for pool in pools))
        again = await scheduler_for(pools[0], now).run_once()  # nothing left to do
    finally:
        for pool in pools:
            await pool.close()
    pool = billing.app[POOL]
    expected = [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
        date(2025, 5, 31),
    ]
    for template_id in template_ids[:-1]:
        rows = await children(pool, template_id)
        assert [row["period_start"] for row in rows] == expected, template_id
        # Caught up oldest first: the earlier period got the earlier number.
        assert sorted(rows, key=lambda r: r["id"]) == rows
    assert await children(pool, template_ids[-1]) == []
    assert sum(run.generated for run in runs) >= 199 * 5 and again.generated == 0
    for setup in setups:  # numbers stay gap-free per company
        labels = await pool.fetch(
            "SELECT label FROM invoices WHERE company_id = $1 AND type = 'invoice' ORDER BY label",
            setup.company_id,
        )
        assert [row["label"] for row in labels] == [
            f"INV-{n:04d}" for n in range(1, len(labels) + 1)
        ]


async def test_scheduling_uses_the_company_date(api, make_setup, billing):
    ahead, behind = await make_setup(), await make_setup()
    await api(
        "PATCH",
        f"/api/v1/companies/{ahead.company_id}",
        ahead.headers,
        {"timezone": "Pacific/Kiritimati"},
    )
    status, body = await api(
        "PATCH", f"/api/v1/companies/{behind.company_id}", behind.headers, {"timezone": "Mars/Base"}
    )
    assert status == 422 and "timezone" in body["errors"]
    ids = []
    for setup in (ahead, behind):
        _, created = await api(
            "POST",
            "/api/v1/invoices",
            setup.headers,
            template_body(setup, scheduled_date="2031-03-01", due_date=None),
        )
        ids.append(created["data"]["id"])
    pool = billing.app[POOL]
    await only_these_templates_run(pool, ids)
    # 11:00 UTC on Feb 28 is already Mar 1 in Kiritimati (UTC+14), still Feb 28 in UTC.
    await scheduler_for(pool, datetime(2031, 2, 28, 11, 0, tzinfo=UTC)).run_once()
    assert len(await children(pool, ids[0])) == 1
    assert await children(pool, ids[1]) == []


async def test_scheduled_invoices_become_due_on_their_date(api, make_setup, billing):
    setup = await make_setup()
    _, created = await api(
        "POST",
        "/api/v1/invoices",
        setup.headers,
        {
            "invoice_recipient_id": setup.recipient_id,
            "status": "scheduled",
            "scheduled_date": "2032-06-10",
            "due_date": "2032-06-20",
            "items": [{"label": "Work", "quantity": 1, "price": 10}],
        },
    )
    invoice_id = created["data"]["id"]
    assert created["data"]["status"] == "scheduled"
    pool = billing.app[POOL]
    await scheduler_for(pool, at("2032-06-09")).run_once()
    assert (await api("GET", f"/api/v1/invoices/{invoice_id}", setup.headers))[1]["data"][
        "status"
    ] == "scheduled"
    first, second = await asyncio.gather(
        scheduler_for(pool, at("2032-06-10")).run_once(),
        scheduler_for(pool, at("2032-06-10")).run_once(),
    )
    status, invoice = await api("GET", f"/api/v1/invoices/{invoice_id}", setup.headers)
    assert invoice["data"]["status"] == "due"
    assert [h["to_status"] for h in invoice["data"]["history"]].count("due") == 1


async def test_auto_send_children_are_sent_with_the_email_queued(api, make_setup, billing):
    setup = await make_setup()
    _, created = await api(
        "POST",
        "/api/v1/invoices",
        setup.headers,
        template_body(setup, scheduled_date="2033-01-01", due_date="2033-01-15", auto_send=True),
    )
    await only_these_templates_run(billing.app[POOL], [created["data"]["id"]])
    await scheduler_for(billing.app[POOL], at("2033-01-01")).run_once()
    rows = await children(billing.app[POOL], created["data"]["id"])
    assert [row["status"] for row in rows] == ["sent"]
    queued = await billing.app[POOL].fetch(
        "SELECT template, to_email FROM email_outbox WHERE invoice_id = $1", rows[0]["id"]
    )
    assert [tuple(row) for row in queued] == [("invoice-issued", "billing@client.example")]


async def new_template(api, setup, **overrides) -> int:
    status, created = await api(
        "POST", "/api/v1/invoices", setup.headers, template_body(setup, **overrides)
    )
    assert status == 201, created
    return created["data"]["id"]


async def history_events(pool, invoice_id):
    rows = await pool.fetch(
        "SELECT event FROM invoice_history WHERE invoice_id = $1 ORDER BY id", invoice_id
    )
    return [row["event"] for row in rows]


async def scheduler_state(pool, invoice_id):
    return await pool.fetchrow(
        "SELECT status, scheduler_attempts, scheduler_error, scheduler_retry_at, "
        "scheduler_failed_at FROM invoices WHERE id = $1",
        invoice_id,
    )


async def test_a_template_whose_dates_overflow_is_paused_and_the_others_run(
    api, make_setup, billing
):
    poisoned, healthy = await make_setup(), await make_setup()
    poison_id, good_id = await new_template(api, poisoned), await new_template(api, healthy)
    pool = billing.app[POOL]
    # Written before dates were bounded: 8,000 years of payment terms overflow every period.
    await pool.execute(
        "UPDATE invoices SET scheduled_date = '0001-01-01', due_date = '9999-12-31' WHERE id = $1",
        poison_id,
    )
    await only_these_templates_run(pool, [poison_id, good_id])
    limits = SchedulerLimits(max_attempts=2, catchup_per_pass=1, max_backfill=timedelta(9999))
    now = at("2025-01-31")
    run = await scheduler_for(pool, now, limits).run_once()
    assert (run.generated, run.failed) == (1, 1)
    assert len(await children(pool, good_id)) == 1
    state = await scheduler_state(pool, poison_id)
    assert state["scheduler_attempts"] == 1
    assert state["scheduler_error"] == "OverflowError: date value out of range"
    assert state["scheduler_retry_at"] > now and state["scheduler_failed_at"] is None
    # Not retried before its backoff; the other tenant's next period still comes.
    run = await scheduler_for(pool, at("2025-02-28"), limits).run_once()
    assert (run.generated, run.failed) == (1, 1)  # the backoff has passed by then: attempt 2
    state = await scheduler_state(pool, poison_id)
    assert state["scheduler_attempts"] == 2 and state["scheduler_failed_at"] is not None
    assert "paused:OverflowError: date value out of range" in await history_events(pool, poison_id)
    # Paused: never picked up again, while the other template goes on.
    run = await scheduler_for(pool, at("2025-03-31"), limits).run_once()
    assert (run.generated, run.failed) == (1, 0)
    assert (await scheduler_state(pool, poison_id))["scheduler_attempts"] == 2
    assert await children(pool, poison_id) == []
    assert len(await children(pool, good_id)) == 3
    # An edit (the fix) makes it run again.
    status, _ = await api(
        "PATCH", f"/api/v1/invoices/{poison_id}", poisoned.headers, {"due_date": None}
    )
    assert status == 200
    assert (await scheduler_state(pool, poison_id))["scheduler_failed_at"] is None
    await scheduler_for(pool, at("2025-03-31"), limits).run_once()
    assert len(await children(pool, poison_id)) == 1


async def test_a_scheduled_invoice_that_cannot_move_never_holds_up_the_others(
    make_setup, billing, helpers
):
    setups = [await make_setup() for _ in range(3)]
    stuck, foreign_zone, healthy = [
        await helpers.invoice(billing, setup, status="scheduled", scheduled_date="2034-03-01")
        for setup in setups
    ]
    pool = billing.app[POOL]
    # Rows no statement over all of them survives: a version at the integer limit, and a
    # company timezone PostgreSQL does not know (written before validation existed).
    await pool.execute("UPDATE invoices SET version = 2147483647 WHERE id = $1", stuck)
    await pool.execute(
        "UPDATE companies SET timezone = 'Mars/Olympus_Mons' WHERE id = $1",
        setups[1].company_id,
    )
    limits = SchedulerLimits(max_attempts=2, catchup_per_pass=10, max_backfill=timedelta(90))
    run = await scheduler_for(pool, at("2034-03-01"), limits).run_once()
    assert run.failed == 1 and run.moved_to_due >= 2
    assert (await scheduler_state(pool, healthy))["status"] == "due"
    assert (await scheduler_state(pool, foreign_zone))["status"] == "due"  # counted as UTC
    state = await scheduler_state(pool, stuck)
    assert (state["status"], state["scheduler_attempts"]) == ("scheduled", 1)
    assert state["scheduler_error"].startswith("NumericValueOutOfRangeError")
    await scheduler_for(pool, at("2034-03-02"), limits).run_once()
    state = await scheduler_state(pool, stuck)
    assert state["scheduler_attempts"] == 2 and state["scheduler_failed_at"] is not None
    assert any(e.startswith("due_failed:") for e in await history_events(pool, stuck))
    await pool.execute("UPDATE invoices SET status = 'cancelled' WHERE id = $1", stuck)
    await pool.execute("UPDATE companies SET timezone = 'UTC' WHERE id = $1", setups[1].company_id)


async def test_catch_up_is_bounded_per_pass_and_in_how_far_back(api, make_setup, billing):
    setup = await make_setup()
    template_id = await new_template(
        api, setup, recurring="daily", scheduled_date="2025-01-01", due_date=None
    )
    pool = billing.app[POOL]
    # As a converted invoice once could: runs dated 1,300 years back.
    await pool.execute(
        "UPDATE invoices SET scheduled_date = '0694-06-11', anchor_date = '0694-06-11', "
        "next_run_date = '0694-06-11' WHERE id = $1",
        template_id,
    )
    await only_these_templates_run(pool, [template_id])
    limits = SchedulerLimits(max_attempts=5, catchup_per_pass=5, max_backfill=timedelta(30))
    run = await scheduler_for(pool, at("2025-06-15"), limits).run_once()
    assert run.generated == 5  # one skip of every old run, then four periods
    starts = [row["period_start"] for row in await children(pool, template_id)]
    assert starts == [date(2025, 5, 16), date(2025, 5, 17), date(2025, 5, 18), date(2025, 5, 19)]
    [skipped] = [e for e in await history_events(pool, template_id) if "skipped" in e]
    assert skipped.startswith("periods_skipped:486112 from 0694-06-11 to 2025-05-15")
    await scheduler_for(pool, at("2025-06-15"), limits).run_once()
    assert len(await children(pool, template_id)) == 9  # the next pass: five more


async def test_backfilled_periods_are_never_auto_sent(api, make_setup, billing):
    setup = await make_setup()
    template_id = await new_template(
        api, setup, recurring="weekly", scheduled_date="2035-01-01", due_date=None, auto_send=True
    )
    pool = billing.app[POOL]
    await only_these_templates_run(pool, [template_id])
    await scheduler_for(pool, at("2035-01-15")).run_once()  # three runs: two missed, one today
    rows = await children(pool, template_id)
    assert [(row["period_start"], row["status"]) for row in rows] == [
        (date(2035, 1, 1), "draft"),
        (date(2035, 1, 8), "draft"),
        (date(2035, 1, 15), "sent"),
    ]
    queued = await pool.fetch(
        "SELECT invoice_id FROM email_outbox WHERE invoice_id = ANY($1::bigint[])",
        [row["id"] for row in rows],
    )
    assert [row["invoice_id"] for row in queued] == [rows[2]["id"]]
    assert "auto_send_skipped:backfilled" in await history_events(pool, rows[0]["id"])


async def test_one_companys_backlog_never_holds_up_another_companys_periods(
    api, make_setup, billing
):
    noisy, quiet = await make_setup(), await make_setup()
    backlog = [
        await new_template(
            api, noisy, recurring="daily", scheduled_date="2025-06-01", due_date=None
        )
        for _ in range(4)
    ]
    punctual = await new_template(
        api, quiet, recurring="monthly", scheduled_date="2025-06-15", due_date=None
    )
    pool = billing.app[POOL]
    await only_these_templates_run(pool, [*backlog, punctual])
    # A pass of 8 rows: the noisy company's 60 missed periods, oldest first, would fill it.
    limits = SchedulerLimits(
        max_attempts=5,
        catchup_per_pass=10_000,
        max_backfill=timedelta(9999),
        company_share_per_pass=3,
        max_per_pass=8,
    )
    run = await scheduler_for(pool, at("2025-06-15"), limits).run_once()
    assert run.generated == 4  # the noisy company's share, then the quiet company's period
    assert [row["period_start"] for row in await children(pool, punctual)] == [date(2025, 6, 15)]
    billed = [len(await children(pool, template_id)) for template_id in backlog]
    assert sum(billed) == 3


async def test_a_template_ends_before_a_child_would_be_dated_past_2999(api, make_setup, billing):
    setup = await make_setup()
    template_id = await new_template(
        api, setup, recurring="monthly", scheduled_date="2999-11-30", due_date="2999-12-20"
    )
    path = f"/api/v1/invoices/{template_id}/create-next"
    status, child = await api("POST", path, setup.headers)
    assert status == 201 and child["data"]["due_date"] == "2999-12-20"
    # The next child (2999-12-30) would be due in 3000: the template has no run left.
    status, refused = await api("POST", path, setup.headers)
    assert status == 409, refused
    status, shown = await api("GET", f"/api/v1/invoices/{template_id}", setup.headers)
    assert shown["data"]["next_run_date"] is None
