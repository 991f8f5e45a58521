-- The webhook delivery loop.

-- E-mails that are about no invoice: the notice to a company's owners that one of its webhook
-- endpoints was disabled. `context` holds what such a template shows (no PDF is attached).
ALTER TABLE email_outbox ALTER COLUMN invoice_id DROP NOT NULL;
ALTER TABLE email_outbox ADD COLUMN context jsonb;
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_about_something
    CHECK (invoice_id IS NOT NULL OR context IS NOT NULL);

-- Manual redelivery's flag (017, the webhooks API, adds it; repeated here so this migration
-- stands alone): the loop copies it into the attempt it makes and clears it.
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS redelivery boolean NOT NULL DEFAULT false;
