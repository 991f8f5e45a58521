-- One send of an invoice may queue several e-mails (the recipient, the invoice members who
-- receive it, the recipient's client-portal contacts): they share a send_id, and the
-- per-invoice send quota counts sends, not e-mails. Each existing e-mail was a send of its own.
ALTER TABLE email_outbox ADD COLUMN send_id uuid NOT NULL DEFAULT gen_random_uuid();
