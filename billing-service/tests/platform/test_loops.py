"""The background loops as the service runs them: they outlive any bad row or failing pass, and
/readyz and /metrics tell how they are doing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from billing_service.platform.keys import LOOPS, POOL

WAIT = 30  # seconds: an upper bound for the loops to get there, never a timing assertion


EMAIL_STATUS = "SELECT status FROM email_outbox WHERE invoice_id = $1"
INVOICE_STATUS = "SELECT status FROM invoices WHERE id = $1"


async def until_status(pool, sql: str, row_id: int, wanted: str) -> None:
    """Poll until the row has the status (the loops run on their own)."""
    async with asyncio.timeout(WAIT):
        status = await pool.fetchval(sql, row_id)
        while status != wanted:
            await asyncio.sleep(0.05)
            status = await pool.fetchval(sql, row_id)


async def metric(client, name: str, **labels: str) -> float:
    response = await client.get("/metrics")
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


async def test_readiness_reports_a_stalled_or_ended_loop(start_billing):
    # One pass at start, then none for the test's length.
    client = await start_billing(mailer_enabled=True, mailer_interval_seconds=3600)
    mailer = client.app[LOOPS]["mailer"]
    # The first pass done (it would set last_pass anew after the change below).
    async with asyncio.timeout(WAIT):
        passes = await metric(client, "billing_loop_passes_total", loop="mailer")
        while passes < 1:
            await asyncio.sleep(0.05)
            passes = await metric(client, "billing_loop_passes_total", loop="mailer")
    assert (await client.get("/readyz")).status == 200
    mailer.last_pass -= mailer.stale_after + 1  # as if its last pass were that long ago
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["failing"] == {"mailer": "LoopStalled"}
    mailer.last_pass += mailer.stale_after + 1
    assert (await client.get("/readyz")).status == 200
    await mailer.stop(bound=WAIT)  # a loop that has ended, whatever ended it
    response = await client.get("/readyz")
    assert (await response.json())["failing"] == {"mailer": "LoopStalled"}


async def test_poison_rows_never_stop_the_running_loops_even_after_a_restart(
    start_billing, billing, helpers, make_setup, tmp_path
):
    poisoned, healthy = await make_setup(), await make_setup()
    pool = billing.app[POOL]
    await pool.execute("UPDATE invoices SET status = 'cancelled' WHERE type = 'recurring'")
    await pool.execute("UPDATE email_outbox SET status = 'sent' WHERE status = 'pending'")
    # Other tests' overdue invoices: announcing them all would hold up the first pass.
    await pool.execute("UPDATE invoices SET overdue_announced_at = now()")
    await _plant_poison(billing, helpers, poisoned)
    settings = {
        "mailer_enabled": True,
        "scheduler_enabled": True,
        "mailer_interval_seconds": 0.05,
        "scheduler_interval_seconds": 0.05,
        "smtp_host": "",
        "mail_dir": str(tmp_path),
    }
    for restart in range(2):  # a fresh service finds the same poison rows first
        service = await start_billing(**settings)
        failed_before = await metric(
            service, "billing_loop_rows_total", loop="mailer", outcome="failed"
        )
        email_invoice = await _send(billing, helpers, healthy)
        scheduled_invoice = await _scheduled_today(billing, helpers, healthy)
        await until_status(pool, EMAIL_STATUS, email_invoice, "sent")
        await until_status(pool, INVOICE_STATUS, scheduled_invoice, "due")
        assert (await service.get("/readyz")).status == 200
        if restart == 0:  # the poison e-mail failed once on this service (then waits a backoff)
            failed = await metric(
                service, "billing_loop_rows_total", loop="mailer", outcome="failed"
            )
            assert failed > failed_before
        assert await metric(service, "billing_loop_passes_total", loop="scheduler") >= 1
        assert all(not loop.task.done() for loop in service.app[LOOPS].values())
        await service.close()
    poison = await pool.fetchrow(
        "SELECT status, attempts, last_error FROM email_outbox WHERE company_id = $1",
        poisoned.company_id,
    )
    assert poison["status"] == "pending" and poison["attempts"] >= 1
    assert poison["last_error"].startswith("KeyError")
    # No poison left for the tests that share this database (a scheduler pass of theirs would
    # count the stuck invoice among its failures).
    company = poisoned.company_id
    await pool.execute("UPDATE invoices SET status = 'cancelled' WHERE company_id = $1", company)
    await pool.execute("UPDATE email_outbox SET status = 'sent' WHERE company_id = $1", company)


async def _plant_poison(billing, helpers, setup) -> None:
    """One bad row of each kind, in one tenant: an e-mail that cannot be composed, a template
    whose dates overflow, a scheduled invoice no update can move."""
    pool = billing.app[POOL]
    email_invoice = await _send(billing, helpers, setup)
    await pool.execute(
        "UPDATE email_outbox SET template = 'retired-template', "
        "next_attempt_at = now() - interval '1 day' WHERE invoice_id = $1",
        email_invoice,
    )
    template = await helpers.invoice(
        billing,
        setup,
        type="recurring",
        recurring="monthly",
        scheduled_date=datetime.now(UTC).date().isoformat(),
    )
    await pool.execute(
        "UPDATE invoices SET scheduled_date = '0001-01-01', due_date = '9999-12-31' WHERE id = $1",
        template,
    )
    stuck = await _scheduled_today(billing, helpers, setup)
    await pool.execute("UPDATE invoices SET version = 2147483647 WHERE id = $1", stuck)


async def _send(billing, helpers, setup) -> int:
    invoice_id = await helpers.invoice(billing, setup)
    status, _ = await helpers.call(
        billing, "POST", f"/api/v1/invoices/{invoice_id}/send", setup.headers, {}
    )
    assert status == 200
    return invoice_id


async def _scheduled_today(billing, helpers, setup) -> int:
    today = datetime.now(UTC).date().isoformat()
    return await helpers.invoice(billing, setup, status="scheduled", scheduled_date=today)
