-- Recurring templates: runs are counted from an anchor (the first run's date); each child
-- records the period it bills, and a unique index makes one child per template period, so
-- concurrent schedulers, retries and create-next can never bill a period twice.
ALTER TABLE invoices
    ADD COLUMN auto_send    boolean NOT NULL DEFAULT false,
    ADD COLUMN end_date     date,
    ADD COLUMN max_runs     integer CHECK (max_runs > 0),
    ADD COLUMN run_count    integer NOT NULL DEFAULT 0,
    ADD COLUMN anchor_date  date,
    ADD COLUMN period_start date;

UPDATE invoices SET anchor_date = coalesce(next_run_date, scheduled_date) WHERE type = 'recurring';

CREATE UNIQUE INDEX invoices_one_child_per_period
    ON invoices (invoice_parent_id, period_start) WHERE period_start IS NOT NULL;
CREATE INDEX invoices_recurring_due ON invoices (next_run_date)
    WHERE type = 'recurring' AND deleted_at IS NULL AND status <> 'cancelled'
      AND next_run_date IS NOT NULL;
CREATE INDEX invoices_scheduled_on ON invoices (scheduled_date)
    WHERE status = 'scheduled' AND deleted_at IS NULL;
