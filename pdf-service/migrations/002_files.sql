-- A stored document may be another file than a rendered PDF: a Factur-X PDF (the rendered
-- PDF with its e-invoice XML embedded) or an e-invoice XML, served through the same signed
-- links with their own media type. (The bytes' column keeps its first name, pdf.)
ALTER TABLE documents ADD COLUMN media_type text NOT NULL DEFAULT 'application/pdf';
