-- An invoicer's logo, as printed on its PDFs: decoded and re-encoded on upload (PNG, or JPEG
-- when that is much smaller), at most 600 x 600 px. One per invoicer; gone with it.
CREATE TABLE invoicer_logos (
    invoicer_id bigint PRIMARY KEY REFERENCES invoicers (id) ON DELETE CASCADE,
    company_id  bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    media_type  text NOT NULL CHECK (media_type IN ('image/png', 'image/jpeg')),
    width       integer NOT NULL CHECK (width BETWEEN 1 AND 600),
    height      integer NOT NULL CHECK (height BETWEEN 1 AND 600),
    image       bytea NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
