-- 1,000 companies and 1,000,000 invoices: company 1 holds 100,000, the others ~900 each.
-- Identity of the benchmark caller: user 1, a member of company 1 only.
INSERT INTO companies (id, name, slug, created_by)
SELECT n, 'Company ' || n, 'company-' || n, 1 FROM generate_series(1, 1000) n;
SELECT setval('companies_id_seq', 1000);
INSERT INTO company_members (company_id, user_id, role) VALUES (1, 1, 'owner');
INSERT INTO company_members (company_id, user_id, role)
SELECT n, 1000 + n, 'owner' FROM generate_series(2, 1000) n;
INSERT INTO organisations (id, company_id, name, slug, is_default)
SELECT n, n, 'Clients', 'clients', true FROM generate_series(1, 1000) n;
SELECT setval('organisations_id_seq', 1000);
INSERT INTO recipients (id, company_id, organisation_id, company_entity, email, currency)
SELECT n, n, n, 'Client of ' || n, 'client' || n || '@example.com', 'USD' FROM generate_series(1, 1000) n;
SELECT setval('recipients_id_seq', 1000);
-- Bulk load without the per-row count trigger; the counts are backfilled below at once.
SET session_replication_role = replica;
INSERT INTO invoices (company_id, public_id, type, status, label, invoice_recipient_id, currency,
                      scheduled_date, due_date, subtotal, tax, total, created_by)
SELECT c, md5(random()::text || n), 'invoice',
       (ARRAY['draft', 'approved', 'sent', 'paid'])[1 + n % 4],
       'INV-' || lpad(n::text, 7, '0'), c, 'USD',
       date '2024-01-01' + (n % 700), date '2024-01-31' + (n % 700),
       100 + n % 1000, 20 + n % 200, 120 + n % 1000 + n % 200, 1
FROM (
  SELECT n, CASE WHEN n % 10 = 0 THEN 1 ELSE 2 + (n % 999) END AS c
  FROM generate_series(1, 1000000) n
) s;
RESET session_replication_role;
INSERT INTO invoice_counts (company_id, type, status, count)
SELECT company_id, type, status, count(*) FROM invoices WHERE deleted_at IS NULL
GROUP BY company_id, type, status;
ANALYZE;
