-- The invoice's current PDF (a document of pdf-service, which owns the bytes).
ALTER TABLE invoices ADD COLUMN document_id uuid;
