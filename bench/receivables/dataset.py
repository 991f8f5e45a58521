"""A receivables dataset for benchmarks: 1,000,000 invoices, 100,000 of them in one company.

    uv run python bench/receivables/dataset.py --dsn postgresql://... \\
        [--invoices 1000000] [--big-company-invoices 100000] [--companies 1000]

or, from another benchmark: `await fill_database(dsn, invoices=..., big_company_invoices=...)`
(applies billing-service's own migrations first, then fills) or `await fill(conn, ...)` on a
migrated, empty database.

Company 1 holds `big_company_invoices` invoices (spread evenly over the id range, as if it
had been writing all along), the rest are spread over `companies` other companies. Users: 1
owns company 1, 2 is its admin, 3 a member; company c > 1 is owned by user 1000 + c.

Every row is a function of its number (no random()), so two loads give the same database:
- customers (2,000 in the big company, 20 in each other) in EUR, USD, GBP or CHF, each invoice
  in its customer's currency; products (200 / 10 per company);
- 2 or 3 items per invoice: 20 % (S), 10 % or 5.5 % (S), 0 % (Z or E with a reason), one line
  per VAT group so the invoice's per-group rounding is the line's;
- issue dates over the 3 years before `end_date`, due 14 to 60 days later;
- statuses: draft 5 %, cancelled 3 %, credited in full 2 % (a credit note of every line),
  credited in part 5 % (a credit note of the first line; 2 % of them then paid), paid and
  then 10 % refunded 3 %, partly paid (40 %) 12 %, sent and unpaid 20 % (overdue once past
  due), paid 50 % (one payment, or two halves); a payment falls 0 to 59 days after issue, and
  an invoice whose payment would fall after `end_date` is unpaid instead;
- credit notes are issued (`approved`) records of the invoices table dated 0 to 19 days after
  their invoice; refunds 5 days after the payment they return.
Amounts obey the schema's checks (amount_paid + amount_credited <= total, refunds within their
payment); invoice_counts is rebuilt at the end, as its trigger would have kept it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import date

import asyncpg

END_DATE = date(2026, 11, 30)
SPAN_DAYS = 1095  # about 3 years of issue dates
BIG_COMPANY_ID = 1
OWNER_USER_ID, ADMIN_USER_ID, MEMBER_USER_ID = 1, 2, 3
BIG_CUSTOMERS, OTHER_CUSTOMERS = 2000, 20
BIG_PRODUCTS, OTHER_PRODUCTS = 200, 10


@dataclass(frozen=True)
class Dataset:
    """What was loaded, for the benchmark that loaded it."""

    companies: int
    invoices: int
    big_company_invoices: int
    credit_notes: int
    payments: int
    refunds: int
    end_date: date
    seconds: float
    big_company_id: int = BIG_COMPANY_ID
    owner_user_id: int = OWNER_USER_ID
    admin_user_id: int = ADMIN_USER_ID
    member_user_id: int = MEMBER_USER_ID


# A currency of a customer by its id: EUR half of them, USD and GBP a fifth each, CHF a tenth.
CURRENCY_OF = (
    "(ARRAY['EUR','USD','EUR','GBP','EUR','USD','EUR','GBP','EUR','CHF'])[1 + ({id}) % 10]"
)

COMPANIES = """
INSERT INTO companies (id, name, slug, timezone, currency, created_by)
SELECT c, 'Bench company ' || c, 'bench-company-' || c,
       (ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Europe/London'])[1 + c % 4], 'EUR',
       CASE c WHEN 1 THEN 1 ELSE 1000 + c END
FROM generate_series(1, @companies@::int) c;
INSERT INTO company_members (company_id, user_id, role)
VALUES (1, 1, 'owner'), (1, 2, 'admin'), (1, 3, 'member');
INSERT INTO company_members (company_id, user_id, role)
SELECT c, 1000 + c, 'owner' FROM generate_series(2, @companies@::int) c;
INSERT INTO organisations (id, company_id, name, slug, is_default)
SELECT c, c, 'Customers', 'customers', true FROM generate_series(1, @companies@::int) c;
INSERT INTO invoicers (id, company_id, company_entity, currency, tax_rate, is_default,
                       country_code, vat_id, city)
SELECT c, c, 'Seller ' || c || ' Ltd', 'EUR', 20, true, 'FR', 'FR' || lpad(c::text, 11, '0'), 'Lyon'
FROM generate_series(1, @companies@::int) c;
"""

# Customers and products: the big company's first, then a block of each other company's.
PARTIES = f"""
INSERT INTO recipients (id, company_id, organisation_id, company_entity, contact_name, email,
                        currency, country_code, city)
SELECT id, company_id, company_id, 'Customer ' || id || ' GmbH', 'Contact ' || id,
       'customer' || id || '@example.com', {CURRENCY_OF.format(id="id")}, 'DE', 'Berlin'
FROM (
    SELECT k AS id, 1 AS company_id FROM generate_series(1, {BIG_CUSTOMERS}) k
    UNION ALL
    SELECT {BIG_CUSTOMERS} + (c - 2) * {OTHER_CUSTOMERS} + k, c
    FROM generate_series(2, @companies@::int) c, generate_series(1, {OTHER_CUSTOMERS}) k
) customers;
INSERT INTO products (id, company_id, type, name, sku, price, unit, tax_rate)
SELECT id, company_id, CASE WHEN id % 3 = 0 THEN 'product' ELSE 'service' END,
       'Product ' || id, 'SKU-' || id, 10 + (id * 37) % 490 + 0.50, 'unit', 20
FROM (
    SELECT k AS id, 1 AS company_id FROM generate_series(1, {BIG_PRODUCTS}) k
    UNION ALL
    SELECT {BIG_PRODUCTS} + (c - 2) * {OTHER_PRODUCTS} + k, c
    FROM generate_series(2, @companies@::int) c, generate_series(1, {OTHER_PRODUCTS}) k
) catalogue;
"""

# One row per invoice: who, when, and what happens to it (`fate`). h is a multiplicative hash
# of the invoice's number, so neighbouring invoices differ in every choice.
PLAN = f"""
CREATE TEMP TABLE bench_plan ON COMMIT DROP AS
WITH numbered AS (
    SELECT n, (n::bigint * 2654435761) % 4294967296 AS h,
           floor(n::numeric * @big@ / @invoices@) > floor((n - 1)::numeric * @big@ / @invoices@) AS big
    FROM generate_series(1, @invoices@::int) n
), placed AS (
    SELECT n, h,
           CASE WHEN big THEN 1 ELSE 2 + n % (@companies@::int - 1) END AS company_id,
           @end@::date - ((h / 8) % {SPAN_DAYS})::int AS issued,
           (h / 256) % 100 AS roll,
           @end@::date - ((h / 8) % {SPAN_DAYS})::int + ((h / 65536) % 60)::int AS paid_on
    FROM numbered
)
SELECT n AS id, h, company_id, issued,
       issued + (ARRAY[14, 30, 30, 45, 60])[1 + (h / 16) % 5] AS due,
       CASE WHEN company_id = 1 THEN 1 + (h / 4096) % {BIG_CUSTOMERS}
            ELSE {BIG_CUSTOMERS} + (company_id - 2) * {OTHER_CUSTOMERS} + 1 + (h / 4096) % {OTHER_CUSTOMERS}
       END AS recipient_id,
       CASE WHEN company_id = 1 THEN 0
            ELSE {BIG_PRODUCTS} + (company_id - 2) * {OTHER_PRODUCTS} END AS product_base,
       CASE WHEN company_id = 1 THEN {BIG_PRODUCTS} ELSE {OTHER_PRODUCTS} END AS products,
       2 + (h / 32) % 2 AS lines,
       paid_on,
       least(issued + ((h / 1048576) % 20)::int, @end@::date) AS credited_on,
       least(paid_on + 5, @end@::date) AS refunded_on,
       least(paid_on + 7, @end@::date) AS last_paid_on,
       CASE
           WHEN roll < 5 THEN 'draft'
           WHEN roll < 8 THEN 'cancelled'
           WHEN roll < 10 THEN 'credited'
           WHEN roll < 13 THEN 'part_credited'
           WHEN roll < 15 AND paid_on <= @end@ THEN 'part_credited_paid'
           WHEN roll < 15 THEN 'part_credited'
           WHEN paid_on > @end@ THEN 'sent'
           WHEN roll < 18 THEN 'refunded'
           WHEN roll < 30 THEN 'part_paid'
           WHEN roll < 50 THEN 'sent'
           WHEN roll < 60 THEN 'paid_twice'
           ELSE 'paid'
       END AS fate
FROM placed;
ALTER TABLE bench_plan ADD PRIMARY KEY (id);
"""

# Lines: position 1 at 20 %, 2 at 10 % or 5.5 %, 3 at 0 % (zero-rated or exempt).
LINES = """
CREATE TEMP TABLE bench_lines ON COMMIT DROP AS
SELECT drawn.*, pr.price, round(quantity * pr.price, 2) AS net,
       round(round(quantity * pr.price, 2) * rate / 100, 2) AS tax
FROM (
    SELECT p.id AS invoice_id, position,
           p.product_base + 1 + (p.h / 1024 + position * 7) % p.products AS product_id,
           (1 + (p.h / (position * 13)) % 9)::numeric AS quantity,
           CASE position WHEN 1 THEN 20 WHEN 2 THEN (ARRAY[10, 5.5])[1 + p.h % 2] ELSE 0 END
               ::numeric AS rate,
           CASE WHEN position < 3 THEN 'S' WHEN p.h % 5 = 0 THEN 'E' ELSE 'Z' END AS category
    FROM bench_plan p, generate_series(1, p.lines) position
) drawn
JOIN products pr ON pr.id = drawn.product_id;
CREATE INDEX ON bench_lines (invoice_id);
CREATE TEMP TABLE bench_sums ON COMMIT DROP AS
SELECT invoice_id AS id, sum(net) AS subtotal, sum(tax) AS tax, sum(net + tax) AS total,
       sum(net + tax) FILTER (WHERE position = 1) AS first_line_total,
       sum(net) FILTER (WHERE position = 1) AS first_line_net,
       sum(tax) FILTER (WHERE position = 1) AS first_line_tax
FROM bench_lines GROUP BY invoice_id;
ALTER TABLE bench_sums ADD PRIMARY KEY (id);
"""

# What each fate leaves on the invoice.
SETTLEMENT = """
CREATE TEMP TABLE bench_settled ON COMMIT DROP AS
SELECT p.*, s.subtotal, s.tax, s.total, s.first_line_total, s.first_line_net, s.first_line_tax,
       CASE p.fate
           WHEN 'credited' THEN s.total
           WHEN 'part_credited' THEN s.first_line_total
           WHEN 'part_credited_paid' THEN s.first_line_total
           ELSE 0 END AS credited,
       CASE p.fate
           WHEN 'part_credited_paid' THEN s.total - s.first_line_total
           WHEN 'refunded' THEN s.total
           WHEN 'part_paid' THEN round(s.total * 0.4, 2)
           WHEN 'paid' THEN s.total
           WHEN 'paid_twice' THEN s.total
           ELSE 0 END AS paid,
       CASE p.fate WHEN 'refunded' THEN round(s.total * 0.1, 2) ELSE 0 END AS refunded,
       CASE p.fate
           WHEN 'draft' THEN 'draft' WHEN 'cancelled' THEN 'cancelled'
           WHEN 'credited' THEN 'credited'
           WHEN 'part_credited_paid' THEN 'paid' WHEN 'paid' THEN 'paid'
           WHEN 'paid_twice' THEN 'paid'
           ELSE 'sent' END AS status
FROM bench_plan p JOIN bench_sums s USING (id);
"""

INVOICES = """
ALTER TABLE invoices DISABLE TRIGGER invoice_counts_insert;
INSERT INTO invoices (id, company_id, public_id, type, status, label, invoicer_id,
                      invoice_recipient_id, currency, scheduled_date, due_date, subtotal, tax,
                      total, amount_paid, amount_credited, amount_refunded, created_by,
                      approved_at, sent_at, paid_at, cancelled_at, created_at, updated_at)
SELECT id, company_id, md5('bench-invoice-' || id), 'invoice', status,
       'INV-' || lpad(id::text, 7, '0'), company_id, recipient_id, c.currency, issued, due,
       subtotal, tax, total, paid - refunded, credited, refunded,
       CASE company_id WHEN 1 THEN 1 ELSE 1000 + company_id END,
       CASE WHEN status <> 'draft' THEN issued + time '09:00' END,
       CASE WHEN status NOT IN ('draft', 'cancelled') THEN issued + time '09:05' END,
       CASE WHEN status = 'paid' THEN greatest(last_paid_on, credited_on) + time '12:00' END,
       CASE WHEN status = 'cancelled' THEN issued + 2 + time '10:00' END,
       issued + time '08:00', issued + time '08:00'
FROM bench_settled JOIN (SELECT id AS customer_id, currency FROM recipients) c
    ON c.customer_id = recipient_id;
INSERT INTO invoices (id, company_id, public_id, type, status, label, invoicer_id,
                      invoice_recipient_id, currency, scheduled_date, subtotal, tax, total,
                      credited_invoice_id, credit_reason, created_by, approved_at, created_at,
                      updated_at)
SELECT @invoices@::int + row_number() OVER (ORDER BY id), company_id, md5('bench-credit-note-' || id),
       'credit_note', 'approved', 'CN-' || lpad(id::text, 7, '0'), company_id, recipient_id,
       c.currency, credited_on,
       CASE fate WHEN 'credited' THEN subtotal ELSE first_line_net END,
       CASE fate WHEN 'credited' THEN tax ELSE first_line_tax END,
       credited, id, 'Goods returned', CASE company_id WHEN 1 THEN 1 ELSE 1000 + company_id END,
       credited_on + time '11:00', credited_on + time '11:00', credited_on + time '11:00'
FROM bench_settled JOIN (SELECT id AS customer_id, currency FROM recipients) c
    ON c.customer_id = recipient_id
WHERE credited > 0;
ALTER TABLE invoices ENABLE TRIGGER invoice_counts_insert;
"""

ITEMS = """
INSERT INTO invoice_items (invoice_id, position, label, unit, quantity, price, tax_percentage,
                           discount_percentage, discount, price_includes_tax,
                           price_includes_discount, include, product_id, net, tax_amount, total,
                           vat_category, vat_exemption_reason)
SELECT invoice_id, position, 'Product ' || product_id, 'unit', quantity, price, rate, false, 0,
       false, false, true, product_id, net, tax, net + tax, category,
       CASE category WHEN 'E' THEN 'Exempt under Article 132 of Directive 2006/112/EC' END
FROM bench_lines;
INSERT INTO invoice_items (invoice_id, position, label, unit, quantity, price, tax_percentage,
                           discount_percentage, discount, price_includes_tax,
                           price_includes_discount, include, product_id, net, tax_amount, total,
                           vat_category, vat_exemption_reason)
SELECT n.id, l.position, 'Product ' || l.product_id, 'unit', l.quantity, l.price, l.rate, false,
       0, false, false, true, l.product_id, l.net, l.tax, l.net + l.tax, l.category,
       CASE l.category WHEN 'E' THEN 'Exempt under Article 132 of Directive 2006/112/EC' END
FROM invoices n
JOIN bench_settled s ON s.id = n.credited_invoice_id
JOIN bench_lines l ON l.invoice_id = s.id AND (s.fate = 'credited' OR l.position = 1)
WHERE n.type = 'credit_note';
"""

# Payments (one, or two halves), each refund against its invoice's one payment.
MONEY = """
INSERT INTO payments (invoice_id, company_id, amount, paid_date, payment_method, reference,
                      user_id, amount_refunded, created_at)
SELECT id, company_id, amount, paid_on + offset_days, method, 'BANK-' || id || '-' || part,
       CASE company_id WHEN 1 THEN 1 ELSE 1000 + company_id END,
       CASE WHEN fate = 'refunded' THEN refunded ELSE 0 END,
       paid_on + offset_days + time '12:00'
FROM (
    SELECT s.*, 1 AS part, 0 AS offset_days,
           CASE WHEN fate = 'paid_twice' THEN round(paid / 2, 2) ELSE paid END AS amount,
           (ARRAY['bank_transfer', 'card', 'bank_transfer', 'cash'])[1 + h % 4] AS method
    FROM bench_settled s WHERE paid > 0
    UNION ALL
    SELECT s.*, 2, last_paid_on - paid_on, paid - round(paid / 2, 2), 'bank_transfer'
    FROM bench_settled s WHERE fate = 'paid_twice'
) paid_parts;
INSERT INTO refunds (invoice_id, company_id, payment_id, amount, reason, refunded_at, user_id,
                     created_at)
SELECT s.id, s.company_id, p.id, s.refunded, 'Partial refund: damaged goods', s.refunded_on,
       p.user_id, s.refunded_on + time '15:00'
FROM bench_settled s JOIN payments p ON p.invoice_id = s.id
WHERE s.fate = 'refunded';
"""

FINISH = """
INSERT INTO invoice_counts (company_id, type, status, count)
SELECT company_id, type, status, count(*) FROM invoices WHERE deleted_at IS NULL
GROUP BY company_id, type, status
ON CONFLICT (company_id, type, status) DO UPDATE SET count = EXCLUDED.count;
SELECT setval('companies_id_seq', (SELECT max(id) FROM companies));
SELECT setval('organisations_id_seq', (SELECT max(id) FROM organisations));
SELECT setval('invoicers_id_seq', (SELECT max(id) FROM invoicers));
SELECT setval('recipients_id_seq', (SELECT max(id) FROM recipients));
SELECT setval('products_id_seq', (SELECT max(id) FROM products));
SELECT setval('invoices_id_seq', (SELECT max(id) FROM invoices));
"""


async def fill(
    conn: asyncpg.Connection,
    *,
    invoices: int = 1_000_000,
    big_company_invoices: int = 100_000,
    companies: int = 1000,
    end_date: date = END_DATE,
) -> Dataset:
    """Fill a migrated, empty billing database (one transaction), then VACUUM ANALYZE it."""
    if not 0 < big_company_invoices <= invoices:
        raise ValueError("big_company_invoices must be between 1 and invoices")
    if await conn.fetchval("SELECT count(*) FROM companies"):
        raise RuntimeError("the database already holds companies: load into an empty one")
    started = time.perf_counter()
    all_companies = companies + 1
    async with conn.transaction():
        await conn.execute("SET LOCAL synchronous_commit = off")
        await conn.execute("SET LOCAL work_mem = '256MB'")
        # Parallel workers share hash tables through /dev/shm, 64 MB in a default container.
        await conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        values = {
            "companies": all_companies,
            "invoices": invoices,
            "big": big_company_invoices,
            "end": end_date,
        }
        for script in (COMPANIES, PARTIES, PLAN, LINES, SETTLEMENT, INVOICES, ITEMS, MONEY):
            for statement in _script(script, **values):
                await conn.execute(statement)
        await conn.execute(FINISH)
    for table in ("invoices", "invoice_items", "payments", "refunds", "recipients", "products"):
        await conn.execute(f"VACUUM (ANALYZE) {table}")
    counts = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM invoices WHERE type = 'credit_note') AS credit_notes,"
        " (SELECT count(*) FROM payments) AS payments, (SELECT count(*) FROM refunds) AS refunds"
    )
    assert counts is not None
    return Dataset(
        companies=all_companies,
        invoices=invoices,
        big_company_invoices=big_company_invoices,
        credit_notes=counts["credit_notes"],
        payments=counts["payments"],
        refunds=counts["refunds"],
        end_date=end_date,
        seconds=round(time.perf_counter() - started, 1),
    )


def _script(script: str, **values: int | date) -> list[str]:
    """The script's statements with its `@name@` placeholders filled in: the values are ints
    and dates, written as SQL literals (utility statements such as CREATE TABLE AS take no
    bind parameters)."""
    for name, value in values.items():
        literal = f"'{value.isoformat()}'::date" if isinstance(value, date) else str(int(value))
        script = script.replace(f"@{name}@", literal)
    return [part.strip() for part in script.split(";\n") if part.strip()]


async def fill_database(
    dsn: str,
    *,
    invoices: int = 1_000_000,
    big_company_invoices: int = 100_000,
    companies: int = 1000,
    end_date: date = END_DATE,
) -> Dataset:
    """Apply billing-service's migrations to the database at `dsn`, then fill it."""
    from billing_service.app import MIGRATIONS
    from shared.db import apply_migrations, create_pool

    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        await apply_migrations(pool, MIGRATIONS)
    finally:
        await pool.close()
    conn = await asyncpg.connect(dsn, command_timeout=None)
    try:
        return await fill(
            conn,
            invoices=invoices,
            big_company_invoices=big_company_invoices,
            companies=companies,
            end_date=end_date,
        )
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="PostgreSQL DSN of an empty database")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--big-company-invoices", type=int, default=100_000)
    parser.add_argument("--companies", type=int, default=1000, help="besides the big one")
    parser.add_argument("--end-date", type=date.fromisoformat, default=END_DATE)
    args = parser.parse_args(argv)
    loaded = asyncio.run(
        fill_database(
            args.dsn,
            invoices=args.invoices,
            big_company_invoices=args.big_company_invoices,
            companies=args.companies,
            end_date=args.end_date,
        )
    )
    print(loaded, file=sys.stderr)


if __name__ == "__main__":
    main()
