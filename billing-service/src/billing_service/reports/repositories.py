"""The reports' SQL: sums over one company's issued invoices, credit notes and money moved.

What counts, everywhere: records of the invoices table of type `invoice` (and `credit_note`,
for what corrects them) that were issued (ISSUED) and not deleted, by their issue date
(`scheduled_date`); payments by `paid_date`, refunds by `refunded_at`. A cancelled invoice
never counts: it is void from its issue date on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg

from billing_service.platform.aging import AGE_BUCKETS

# The statuses of an issued document; 055_report_indexes.sql's partial indexes name the same.
ISSUED = "('approved', 'sent', 'due', 'paid', 'credited')"

# Money an invoice kept that its credit notes moved to the customer's credit, dated as the
# credit note (a credit note beyond the balance of a paid invoice).
_MOVED_TO_CREDIT = f"""
SELECT n.credited_invoice_id AS invoice_id, n.scheduled_date AS day, e.amount
FROM invoices n
JOIN customer_credit_entries e ON e.invoice_id = n.id AND e.source = 'credit_note'
WHERE n.company_id = $1 AND n.type = 'credit_note' AND n.deleted_at IS NULL
  AND n.status IN {ISSUED}
"""


def _bucket_sums(days: str) -> str:
    """platform/aging.py's buckets as one sum per bucket over a day count (one definition)."""
    sums = []
    for bucket in AGE_BUCKETS:
        bounds = [f"{days} >= {bucket.first_day}"] if bucket.first_day is not None else []
        bounds += [f"{days} <= {bucket.last_day}"] if bucket.last_day is not None else []
        sums.append(
            f"coalesce(sum(owed) FILTER (WHERE {' AND '.join(bounds)}), 0) AS {bucket.name}"
        )
    return ",\n       ".join(sums)


# Ageing as of $2: per invoice, the balance it has now (total - amount_paid - amount_credited)
# less what was dated after $2, undone: payments after it were not yet received, refunds and
# money moved to credit not yet given back, credit notes not yet issued. Only invoices with a
# balance now (an index-only scan of invoices_company_open) or such a later record (few, for
# a recent date) can have owed anything on $2, so only those are read. Summed per customer and
# currency into the age buckets (days past the due date on $2; no due date: due at once), and
# only then named (a customer's name is looked up once, not per invoice).
AGING = f"""
WITH later AS (
    SELECT invoice_id, sum(amount) AS undone FROM (
        SELECT invoice_id, amount FROM payments WHERE company_id = $1 AND paid_date > $2
        UNION ALL
        SELECT invoice_id, -amount FROM refunds WHERE company_id = $1 AND refunded_at > $2
        UNION ALL
        SELECT credited_invoice_id, total FROM invoices
        WHERE company_id = $1 AND type = 'credit_note' AND deleted_at IS NULL
          AND status IN {ISSUED} AND scheduled_date > $2
        UNION ALL
        SELECT invoice_id, -amount FROM ({_MOVED_TO_CREDIT}) moved WHERE day > $2
    ) dated GROUP BY invoice_id
), balances AS (
    SELECT id, invoice_recipient_id, currency, due_date,
           total - amount_paid - amount_credited AS owed
    FROM invoices
    WHERE company_id = $1 AND deleted_at IS NULL AND type = 'invoice' AND status IN {ISSUED}
      AND total > amount_paid + amount_credited
      AND scheduled_date <= $2 AND ($3::text IS NULL OR currency = $3)
      AND id NOT IN (SELECT invoice_id FROM later)
    UNION ALL
    SELECT i.id, i.invoice_recipient_id, i.currency, i.due_date,
           i.total - i.amount_paid - i.amount_credited + later.undone
    FROM later JOIN invoices i ON i.id = later.invoice_id
    WHERE i.company_id = $1 AND i.deleted_at IS NULL AND i.type = 'invoice'
      AND i.status IN {ISSUED} AND i.scheduled_date <= $2
      AND ($3::text IS NULL OR i.currency = $3)
)
SELECT aged.*, r.company_entity AS customer_name
FROM (
    SELECT invoice_recipient_id AS customer_id, rtrim(currency) AS currency,
           {_bucket_sums("($2::date - coalesce(due_date, $2::date))")},
           count(*) AS invoices
    FROM balances WHERE owed <> 0
    GROUP BY invoice_recipient_id, currency
) aged
LEFT JOIN recipients r ON r.id = aged.customer_id
"""

# A line's VAT category as the e-invoices name it when it has none: S above zero, else Z.
_CATEGORY = "coalesce(it.vat_category, CASE WHEN it.tax_percentage > 0 THEN 'S' ELSE 'Z' END)"

# Accrual basis: the counted lines of invoices and credit notes issued in [$2, $3].
TAX_ACCRUAL = f"""
SELECT rtrim(d.currency) AS currency, {_CATEGORY} AS category, it.tax_percentage AS rate,
       coalesce(sum(it.net) FILTER (WHERE d.type = 'invoice'), 0) AS added_net,
       coalesce(sum(it.tax_amount) FILTER (WHERE d.type = 'invoice'), 0) AS added_tax,
       coalesce(sum(it.net) FILTER (WHERE d.type = 'credit_note'), 0) AS deducted_net,
       coalesce(sum(it.tax_amount) FILTER (WHERE d.type = 'credit_note'), 0) AS deducted_tax
FROM invoices d
JOIN invoice_items it ON it.invoice_id = d.id AND it.include
WHERE d.company_id = $1 AND d.deleted_at IS NULL AND d.type IN ('invoice', 'credit_note')
  AND d.status IN {ISSUED} AND d.scheduled_date BETWEEN $2 AND $3
  AND ($4::text IS NULL OR d.currency = $4)
GROUP BY 1, 2, 3
"""

# Cash basis: each movement in [$2, $3] of money an invoice keeps (payments in; refunds and
# what its credit notes moved to the customer's credit out), shared across the invoice's
# VAT groups in proportion to the invoice's total. Exact shares here; rounded once per group
# (service).
TAX_CASH = f"""
WITH kept AS (
    SELECT invoice_id, amount FROM (
        SELECT invoice_id, amount FROM payments
        WHERE company_id = $1 AND paid_date BETWEEN $2 AND $3
        UNION ALL
        SELECT invoice_id, -amount FROM refunds
        WHERE company_id = $1 AND refunded_at BETWEEN $2 AND $3
        UNION ALL
        SELECT invoice_id, -amount FROM ({_MOVED_TO_CREDIT}) moved WHERE day BETWEEN $2 AND $3
    ) money
)
SELECT rtrim(i.currency) AS currency, {_CATEGORY} AS category, it.tax_percentage AS rate,
       sum(it.net * kept.amount / i.total) FILTER (WHERE kept.amount > 0) AS added_net,
       sum(it.tax_amount * kept.amount / i.total) FILTER (WHERE kept.amount > 0) AS added_tax,
       sum(-it.net * kept.amount / i.total) FILTER (WHERE kept.amount < 0) AS deducted_net,
       sum(-it.tax_amount * kept.amount / i.total) FILTER (WHERE kept.amount < 0) AS deducted_tax
FROM kept
JOIN invoices i ON i.id = kept.invoice_id
JOIN invoice_items it ON it.invoice_id = i.id AND it.include
WHERE i.company_id = $1 AND i.deleted_at IS NULL AND i.type = 'invoice'
  AND i.status IN {ISSUED} AND i.total > 0 AND ($4::text IS NULL OR i.currency = $4)
GROUP BY 1, 2, 3
"""

# Revenue: per period ($4: month, quarter or year) and currency, what was invoiced, credited
# and collected (payments less refunds and less money moved to credit) in [$2, $3]. Money
# dated before its invoice's issue date counts from that date, as the ageing report does.
REVENUE = f"""
WITH counted AS (
    SELECT id, currency, scheduled_date AS issued_on FROM invoices
    WHERE company_id = $1 AND deleted_at IS NULL AND type = 'invoice' AND status IN {ISSUED}
      AND scheduled_date <= $3 AND ($5::text IS NULL OR currency = $5)
), movements AS (
    SELECT counted.issued_on AS day, counted.currency, i.total AS invoiced, 0 AS credited,
           0 AS collected
    FROM counted JOIN invoices i ON i.id = counted.id
    UNION ALL
    SELECT greatest(n.scheduled_date, counted.issued_on), counted.currency, 0, n.total, 0
    FROM invoices n JOIN counted ON counted.id = n.credited_invoice_id
    WHERE n.company_id = $1 AND n.deleted_at IS NULL AND n.type = 'credit_note'
      AND n.status IN {ISSUED} AND n.scheduled_date <= $3
    UNION ALL
    SELECT greatest(p.paid_date, counted.issued_on), counted.currency, 0, 0, p.amount
    FROM payments p JOIN counted ON counted.id = p.invoice_id
    WHERE p.company_id = $1 AND p.paid_date <= $3
    UNION ALL
    SELECT greatest(r.refunded_at, counted.issued_on), counted.currency, 0, 0, -r.amount
    FROM refunds r JOIN counted ON counted.id = r.invoice_id
    WHERE r.company_id = $1 AND r.refunded_at <= $3
    UNION ALL
    SELECT greatest(moved.day, counted.issued_on), counted.currency, 0, 0, -moved.amount
    FROM ({_MOVED_TO_CREDIT}) moved JOIN counted ON counted.id = moved.invoice_id
    WHERE moved.day <= $3
)
SELECT date_trunc($4::text, day::timestamp)::date AS period, rtrim(currency) AS currency,
       sum(invoiced) AS invoiced, sum(credited) AS credited, sum(collected) AS collected
FROM movements
WHERE day >= $2
GROUP BY 1, 2
"""


@dataclass(frozen=True)
class AgedBalance:
    """What a customer owed in one currency, by age bucket."""

    customer_id: int | None
    customer_name: str | None
    currency: str
    buckets: dict[str, Decimal]  # bucket name -> amount, every bucket
    invoices: int


async def aged_balances(
    conn: asyncpg.Connection, company_id: int, as_of: date, currency: str | None
) -> list[AgedBalance]:
    rows = await conn.fetch(AGING, company_id, as_of, currency)
    return [
        AgedBalance(
            row["customer_id"],
            row["customer_name"],
            row["currency"],
            {bucket.name: row[bucket.name] for bucket in AGE_BUCKETS},
            row["invoices"],
        )
        for row in rows
    ]


async def tax_groups(
    conn: asyncpg.Connection,
    company_id: int,
    start: date,
    end: date,
    currency: str | None,
    basis: str,
) -> list[asyncpg.Record]:
    query = TAX_CASH if basis == "cash" else TAX_ACCRUAL
    return list(await conn.fetch(query, company_id, start, end, currency))


async def revenue_periods(
    conn: asyncpg.Connection,
    company_id: int,
    start: date,
    end: date,
    group: str,
    currency: str | None,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(REVENUE, company_id, start, end, group, currency))
