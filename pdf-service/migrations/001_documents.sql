-- Rendered documents, keyed by the SHA-256 of the snapshot they were rendered from:
-- the same snapshot is never rendered twice.
CREATE TABLE documents (
    id           uuid PRIMARY KEY,
    content_hash char(64) NOT NULL UNIQUE,
    filename     text NOT NULL,
    pdf          bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
