-- Background loops survive any one bad row: each row's failures are recorded on the row itself
-- (attempts, the last error, when to try again), and a row that keeps failing is set aside
-- (an e-mail 'failed', a recurring template paused, a scheduled invoice given up) instead of
-- blocking every other tenant's work.
ALTER TABLE email_outbox ADD COLUMN last_error text;

ALTER TABLE invoices
    ADD COLUMN scheduler_attempts  integer NOT NULL DEFAULT 0,
    ADD COLUMN scheduler_error     text,
    ADD COLUMN scheduler_retry_at  timestamptz,
    ADD COLUMN scheduler_failed_at timestamptz;

-- The scheduler's work lists leave set-aside rows out.
DROP INDEX invoices_recurring_due;
CREATE INDEX invoices_recurring_due ON invoices (next_run_date)
    WHERE type = 'recurring' AND deleted_at IS NULL AND status <> 'cancelled'
      AND next_run_date IS NOT NULL AND scheduler_failed_at IS NULL;
DROP INDEX invoices_scheduled_on;
CREATE INDEX invoices_scheduled_on ON invoices (scheduled_date)
    WHERE status = 'scheduled' AND deleted_at IS NULL AND scheduler_failed_at IS NULL;

-- The e-mail quotas: sends of one invoice in a window, a company's queued and delivered
-- e-mails in the last hour.
CREATE INDEX email_outbox_invoice_queued ON email_outbox (invoice_id, created_at);
CREATE INDEX email_outbox_company_queued ON email_outbox (company_id, created_at);
CREATE INDEX email_outbox_company_sent ON email_outbox (company_id, sent_at) WHERE status = 'sent';
