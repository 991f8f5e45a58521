-- The per-user hourly e-mail quota counts a user's queued e-mails across companies.
CREATE INDEX IF NOT EXISTS email_outbox_user_created ON email_outbox (user_id, created_at);
