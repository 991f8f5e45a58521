-- Automatic reminders (dunning): each company's steps, the pause switches, and the record of
-- every reminder sent, whose unique key makes each step of an invoice exactly once.

-- Off by default; `steps` is the validated list the API answers (dunning/schemas.py).
CREATE TABLE reminder_settings (
    company_id bigint PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
    enabled    boolean NOT NULL DEFAULT false,
    steps      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(steps) = 'array'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE invoices ADD COLUMN reminders_paused boolean NOT NULL DEFAULT false;
ALTER TABLE recipients ADD COLUMN reminders_paused boolean NOT NULL DEFAULT false;

-- One row per reminder sent, written in the transaction that queues its e-mails and adds its
-- fee: (invoice, step, repeat) unique, so a step is sent once whatever runs it.
CREATE TABLE invoice_reminders (
    id          bigserial PRIMARY KEY,
    invoice_id  bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    company_id  bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    step        integer NOT NULL CHECK (step >= 1),  -- its position in the steps, from 1
    repeat      integer NOT NULL DEFAULT 0 CHECK (repeat >= 0),  -- 0: the step itself
    template    text NOT NULL,
    sent_on     date NOT NULL,  -- the company's date when it was sent
    addresses   integer NOT NULL CHECK (addresses >= 0),
    late_fee    numeric(18, 4),
    due_before  date,
    due_after   date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (invoice_id, step, repeat)
);

-- A reminder that waits (an e-mail cap) or failed: when to try again, and after the last
-- attempt set aside (failed_at) until the invoice is updated (paused and resumed, say).
CREATE TABLE reminder_retries (
    invoice_id bigint PRIMARY KEY REFERENCES invoices (id) ON DELETE CASCADE,
    attempts   integer NOT NULL DEFAULT 0,
    error      text,
    retry_at   timestamptz,
    failed_at  timestamptz,
    invoice_version integer  -- the invoice's version when set aside: a newer one retries
);

-- The scheduler's candidates: issued invoices awaiting payment, by company.
CREATE INDEX invoices_remindable ON invoices (company_id, due_date)
    WHERE type = 'invoice' AND status IN ('approved', 'sent', 'due')
      AND deleted_at IS NULL AND NOT reminders_paused;
