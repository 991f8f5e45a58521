-- The delivery loop claims each endpoint's oldest due deliveries, a few per endpoint (so one
-- tenant's backlog or slow receiver takes a few slots, never the whole batch).
CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries (endpoint_id, next_attempt_at, id)
    WHERE status = 'pending';
