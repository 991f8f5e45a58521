-- Customer statements (issue 21): each statement e-mailed is kept, the trace of a send that
-- belongs to no invoice (an invoice's sends are in its history). The e-mails themselves are
-- rows of email_outbox; `send_id` ties them to this row.
CREATE TABLE statement_sends (
    id             bigserial PRIMARY KEY,
    company_id     bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    recipient_id   bigint NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
    currency       char(3) NOT NULL,
    period_from    date NOT NULL,
    period_to      date NOT NULL CHECK (period_to >= period_from),
    closing_balance numeric(18, 4) NOT NULL,
    document_id    text NOT NULL,
    send_id        uuid NOT NULL,
    addresses      integer NOT NULL CHECK (addresses > 0),
    user_id        bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX statement_sends_recipient ON statement_sends (recipient_id, id DESC);
