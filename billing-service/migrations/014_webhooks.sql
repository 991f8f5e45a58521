-- Webhooks and the event log.
--
-- Every change writes its event in the change's own transaction (a transactional outbox), and
-- the same statement queues one delivery per subscribed endpoint: no change without its
-- event, no event without its change. The delivery loop of every replica drains
-- webhook_deliveries with SKIP LOCKED; every attempt is logged in webhook_attempts.

-- The company's events, kept 30 days (GET /events lets a receiver that was down catch up).
-- `seq` orders them (a global sequence, never shown); `id` is the public, unguessable id that
-- receivers see as webhook-id.
CREATE TABLE events (
    seq        bigserial PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    type       text NOT NULL,
    -- What the event is about ('invoice:42', 'recipient:7'): a receiver gets one subject's
    -- events in order, per endpoint.
    subject    text,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX events_company ON events (company_id, seq DESC);
CREATE INDEX events_company_type ON events (company_id, type, seq DESC);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE webhook_endpoints (
    id          bigserial PRIMARY KEY,
    company_id  bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    url         text NOT NULL,
    description text,
    events      text[] NOT NULL,  -- event types, or {'*'}
    enabled     boolean NOT NULL DEFAULT true,
    -- The signing secrets, sealed with WEBHOOK_SECRET_KEY (a database dump does not sign).
    -- After a rotation the previous one still signs until previous_secret_expires_at.
    secret                     text NOT NULL,
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    -- Since when every attempt has failed (NULL after any success); five days of it disable
    -- the endpoint (disabled_reason says so, and the company's owners are e-mailed).
    failing_since   timestamptz,
    disabled_reason text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_company ON webhook_endpoints (company_id, id);

-- One event to one endpoint: pending until a 2xx, or failed after the last retry. A claimed
-- delivery's next_attempt_at is pushed past the attempt's timeout (a lease): a replica that
-- dies mid-attempt leaves it to be claimed again, nothing is lost.
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    endpoint_id     bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_seq       bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    company_id      bigint NOT NULL,
    subject         text,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    UNIQUE (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
-- The per-subject order: a delivery waits while an earlier one of its subject is pending.
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (endpoint_id, subject, event_seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq);

-- The delivery log: one row per attempt (GET /webhooks/{id}/deliveries).
CREATE TABLE webhook_attempts (
    id              bigserial PRIMARY KEY,
    delivery_id     bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id     bigint NOT NULL,
    attempt         integer NOT NULL,
    status_code     integer,
    duration_ms     integer NOT NULL,
    error           text,
    next_attempt_at timestamptz,  -- NULL: no retry (succeeded, or given up)
    redelivery      boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id DESC);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);

-- The scheduler emits invoice.overdue once per passing of the due date (a new due date
-- clears it, so a later passing is announced again).
ALTER TABLE invoices ADD COLUMN overdue_announced_at timestamptz;
CREATE INDEX invoices_overdue_unannounced ON invoices (due_date)
    WHERE status IN ('sent', 'due') AND deleted_at IS NULL AND overdue_announced_at IS NULL;
-- Invoices already overdue before webhooks existed are not announced all at once on upgrade.
UPDATE invoices SET overdue_announced_at = now()
WHERE status IN ('sent', 'due') AND deleted_at IS NULL AND due_date < current_date;
