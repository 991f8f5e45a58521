"""Issue 8: invoice numbers unique per company and type (explicit, concurrent, generated), conversions
never copy a number, and the migration that renumbers existing duplicates."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from billing_service.app import MIGRATIONS
from shared.db import apply_migrations, create_pool

from ..helpers.invoices import assert_422_on, created_invoice, draft

# --- unique invoice numbers ---------------------------------------------------------------


async def test_explicit_invoice_numbers_are_unique_per_company_and_type(api, make_setup):
    setup = await make_setup()
    h = setup.headers
    first = await created_invoice(api, setup, label="ACME-2025-001")
    status, answer = await api("POST", "/api/v1/invoices", h, draft(setup, label="ACME-2025-001"))
    assert_422_on(status, answer, "label")
    assert answer["message"] == "The label has already been taken."
    status, answer = await api(
        "POST", "/api/v1/invoices", h, draft(setup, invoice_number="ACME-2025-001")
    )
    assert_422_on(status, answer, "label")
    # Another type, or another company, may use the same number.
    status, quote_answer = await api(
        "POST", "/api/v1/quotes", h, draft(setup, label="ACME-2025-001")
    )
    assert status == 201, quote_answer
    other = await make_setup()
    assert (await created_invoice(api, other, label="ACME-2025-001"))["label"] == "ACME-2025-001"
    # Renaming another invoice onto the number is refused too.
    second = await created_invoice(api, setup)
    status, answer = await api(
        "PATCH", f"/api/v1/invoices/{second['id']}", h, {"label": "ACME-2025-001"}
    )
    assert_422_on(status, answer, "label")
    # A deleted invoice keeps its number: it is never issued again.
    assert (await api("DELETE", f"/api/v1/invoices/{first['id']}", h))[0] == 204
    status, answer = await api("POST", "/api/v1/invoices", h, draft(setup, label="ACME-2025-001"))
    assert_422_on(status, answer, "label")
    # Keeping one's own number on an update is no conflict.
    status, answer = await api(
        "PATCH", f"/api/v1/invoices/{second['id']}", h, {"label": second["label"]}
    )
    assert status == 200, answer


async def test_concurrent_creates_with_one_number_give_one_201(api, make_setup):
    setup = await make_setup()
    results = await asyncio.gather(
        *(
            api("POST", "/api/v1/invoices", setup.headers, draft(setup, label="RACE-1"))
            for _ in range(6)
        )
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 422, 422, 422, 422, 422], results
    for status, answer in results:
        if status == 422:
            assert answer["errors"] == {"label": ["The label has already been taken."]}


async def test_generated_numbers_skip_numbers_clients_chose(api, make_setup):
    setup = await make_setup()
    chosen = await created_invoice(api, setup, label="INV-0001")
    generated = await created_invoice(api, setup)
    assert (chosen["label"], generated["label"]) == ("INV-0001", "INV-0002")


async def test_conversions_keep_a_free_label_and_invoices_take_the_next_number(api, make_setup):
    """docs/api.md, "Numbers": another type keeps the source's label where it is free in that
    type, else is numbered; an invoice always takes the next invoice number (one series)."""
    setup = await make_setup()
    h = setup.headers

    async def convert(source_id: int, target: str) -> str:
        extra = {"recurring": "monthly"} if target == "recurring" else {}
        status, answer = await api(
            "POST", f"/api/v1/invoices/{source_id}/convert", h, {"type": target} | extra
        )
        assert status == 201, answer
        return str(answer["data"]["label"])

    source = await created_invoice(api, setup, label="CUSTOM-7")
    targets = ("quote", "recurring", "template")
    assert [await convert(source["id"], target) for target in targets] == ["CUSTOM-7"] * 3
    again = [await convert(source["id"], target) for target in targets]
    assert again == ["QUO-0001", "REC-0001", "TPL-0001"]
    quote = await created_invoice(api, setup, type="quote", label="OFFER-1")
    assert await convert(quote["id"], "invoice") == "INV-0001"  # not OFFER-1, free as it is
    assert await convert(source["id"], "invoice") == "INV-0002"  # not CUSTOM-7's twin
    status, estimate = await api("POST", "/api/v1/estimates", h, draft(setup, label="EST-CUSTOM"))
    assert status == 201, estimate
    status, answer = await api(
        "POST", f"/api/v1/estimates/{estimate['data']['id']}/convert-to-invoice", h
    )
    assert status == 201, answer
    assert answer["data"]["invoice_number"] == "INV-0003"


# --- the migration and existing duplicates ------------------------------------------------


def copy_migrations(target: Path, below: int) -> None:
    for path in MIGRATIONS.iterdir():
        if path.suffix == ".sql" and int(path.name.split("_")[0]) < below:
            (target / path.name).write_text(path.read_text())


async def test_migration_renumbers_existing_duplicates_then_enforces_uniqueness(
    postgres_server, tmp_path
):
    name = f"billing_dups_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_server.format(database="test"))
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    pool = await create_pool(postgres_server.format(database=name), min_size=1, max_size=2)
    try:
        copy_migrations(tmp_path, below=7)
        await apply_migrations(pool, tmp_path)
        company = await pool.fetchval(
            "INSERT INTO companies (name, slug, created_by) VALUES ('A', 'a', 1) RETURNING id"
        )
        insert = (
            "INSERT INTO invoices (company_id, public_id, type, status, label, currency,"
            " scheduled_date, created_by, deleted_at) VALUES ($1, $2, $3, 'draft', $4, 'USD',"
            " '2025-01-01', 1, $5) RETURNING id"
        )
        rows = [
            ("invoice", "INV-0001", None),
            ("invoice", "INV-0001", None),
            ("invoice", "INV-0001", "2025-02-01"),  # soft-deleted: still holds the number
            ("quote", "INV-0001", None),  # another type: no duplicate
        ]
        ids = []
        for kind, label, deleted in rows:
            deleted_at = None if deleted is None else date.fromisoformat(deleted)
            ids.append(
                await pool.fetchval(insert, company, uuid.uuid4().hex, kind, label, deleted_at)
            )
        # A label the first renaming would pick is taken already.
        taken = f"INV-0001-{ids[1]}"
        await pool.fetchval(insert, company, uuid.uuid4().hex, "invoice", taken, None)

        assert await apply_migrations(pool, MIGRATIONS) == [
            version for version in _versions() if version >= 7
        ]
        labels = dict(await pool.fetch("SELECT id, label FROM invoices WHERE id = ANY($1)", ids))
        assert labels[ids[0]] == "INV-0001"
        assert labels[ids[1]] == f"INV-0001-{ids[1]}-{ids[1]}"
        assert labels[ids[2]] == f"INV-0001-{ids[2]}"
        assert labels[ids[3]] == "INV-0001"
        events = await pool.fetch(
            "SELECT invoice_id, event FROM invoice_history ORDER BY invoice_id"
        )
        assert [(row["invoice_id"], row["event"]) for row in events] == [
            (ids[1], "renumbered_duplicate:INV-0001"),
            (ids[2], "renumbered_duplicate:INV-0001"),
        ]
        with pytest.raises(asyncpg.UniqueViolationError):
            await pool.fetchval(insert, company, uuid.uuid4().hex, "invoice", "INV-0001", None)
    finally:
        await pool.close()


def _versions() -> list[int]:
    return sorted(int(path.name.split("_")[0]) for path in MIGRATIONS.glob("*.sql"))
