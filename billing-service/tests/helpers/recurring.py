"""Recurring templates and their children, for the recurring-service and scheduler tests."""

from __future__ import annotations


def template_body(setup, **overrides):
    return {
        "type": "recurring",
        "recurring": "monthly",
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "scheduled_date": "2025-01-31",
        "due_date": "2025-02-14",
        "items": [{"label": "Retainer", "quantity": 1, "price": 1000, "tax_percentage": 20}],
    } | overrides


async def children(pool, template_id):
    return await pool.fetch(
        "SELECT id, label, period, period_start, scheduled_date, due_date, status, total "
        "FROM invoices WHERE invoice_parent_id = $1 ORDER BY period_start",
        template_id,
    )
