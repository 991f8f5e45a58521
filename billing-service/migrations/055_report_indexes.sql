-- Reports (issue 21): what the ageing, tax and revenue reports read of one company, each an
-- index range scan however many invoices the company has.

-- Issued documents (invoices and credit notes) by issue date: the tax and revenue reports'
-- periods. The status list is the one reports count as issued.
CREATE INDEX invoices_company_issued_on ON invoices (company_id, scheduled_date)
    INCLUDE (id, type, currency, total)
    WHERE deleted_at IS NULL AND type IN ('invoice', 'credit_note')
      AND status IN ('approved', 'sent', 'due', 'paid', 'credited');

-- Issued invoices with a balance due: the ageing report of today reads only these, from the
-- index alone (everything it reads of them is in it).
CREATE INDEX invoices_company_open ON invoices (company_id)
    INCLUDE (id, invoice_recipient_id, currency, due_date, scheduled_date, total, amount_paid,
             amount_credited)
    WHERE deleted_at IS NULL AND type = 'invoice'
      AND status IN ('approved', 'sent', 'due', 'paid', 'credited')
      AND total > amount_paid + amount_credited;

-- Money moved on a date: payments and refunds by their date (the cash basis, collections,
-- and what an ageing as of a past date undoes).
CREATE INDEX payments_company_paid_on ON payments (company_id, paid_date) INCLUDE (invoice_id, amount);
CREATE INDEX refunds_company_refunded_on ON refunds (company_id, refunded_at) INCLUDE (invoice_id, amount);

-- What a credit note moved from its invoice to the customer's credit, by the credit note.
CREATE INDEX customer_credit_entries_credit_note ON customer_credit_entries (invoice_id)
    INCLUDE (amount) WHERE source = 'credit_note';

-- A document's VAT lines without visiting the table (an index-only scan once vacuumed).
CREATE INDEX invoice_items_vat ON invoice_items (invoice_id)
    INCLUDE (include, vat_category, tax_percentage, net, tax_amount);
