-- The PDF of an invoice as first issued, kept for audit while its current PDF follows its
-- state (paid, credited, due). Written when the invoice is approved: the document's id once
-- pdf-service has rendered it, the snapshot until then (pdf-service down at approval).
CREATE TABLE invoice_issued_documents (
    invoice_id  bigint PRIMARY KEY REFERENCES invoices (id) ON DELETE CASCADE,
    document_id uuid,
    snapshot    json,  -- json, not jsonb: kept verbatim, \u escapes and all
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (document_id IS NOT NULL OR snapshot IS NOT NULL)
);

-- Invoices issued before: the document they were given is the best record of it.
INSERT INTO invoice_issued_documents (invoice_id, document_id)
SELECT id, document_id FROM invoices WHERE approved_at IS NOT NULL AND document_id IS NOT NULL;
