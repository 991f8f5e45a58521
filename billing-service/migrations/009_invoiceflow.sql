-- InvoiceFlow's clients send invoices without a currency: the company's currency is the last
-- default (after the recipient's and the invoicer's). New companies get one (USD unless they
-- name another); existing companies keep none (their invoices keep needing a currency from
-- the recipient, the invoicer or the request, as before) until an owner sets it.
ALTER TABLE companies ADD COLUMN currency char(3);

-- DELETE /customers/{id} archives a customer whose invoices are all settled: hidden from
-- every list and lookup, still named by its invoices (the existing invoices_recipient index
-- answers "does it still owe anything").
ALTER TABLE recipients ADD COLUMN archived_at timestamptz;
