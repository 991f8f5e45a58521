-- Electronic invoices (EN 16931: Factur-X/ZUGFeRD, CII, Peppol BIS UBL, XRechnung).
-- Every new column is optional: existing records stay valid, and an invoice that lacks what a
-- format needs is refused for that format only (422 naming the fields), never on write.

-- Both parties: a structured postal address (company_address stays, for display), a VAT
-- identifier with its country prefix, and an electronic address `<scheme>:<identifier>`
-- (a 4-digit ISO 6523 / EAS scheme such as 0088 or 9930).
-- The seller's contact, which XRechnung requires (BR-DE-5..7; recipients have theirs).
ALTER TABLE invoicers
    ADD COLUMN contact_name  text,
    ADD COLUMN email         text,
    ADD COLUMN phone         text,
    ADD COLUMN address_line1 text,
    ADD COLUMN address_line2 text,
    ADD COLUMN city          text,
    ADD COLUMN postcode      text,
    ADD COLUMN country_code  char(2),
    ADD COLUMN vat_id        text,
    ADD COLUMN peppol_id     text;

ALTER TABLE recipients
    ADD COLUMN address_line1   text,
    ADD COLUMN address_line2   text,
    ADD COLUMN city            text,
    ADD COLUMN postcode        text,
    ADD COLUMN country_code    char(2),
    ADD COLUMN vat_id          text,
    ADD COLUMN peppol_id       text,
    ADD COLUMN buyer_reference text;  -- the default of its invoices' (XRechnung's Leitweg-ID)

ALTER TABLE invoices
    ADD COLUMN buyer_reference          text,
    ADD COLUMN purchase_order_reference text;

-- A line's VAT category (UNCL 5305 as EN 16931 restricts it) and its exemption reason; NULL
-- category: S when the line's rate is above zero, else Z. A unit code (UN/ECE Recommendation
-- 20) overrides the one mapped from the line's unit.
ALTER TABLE invoice_items
    ADD COLUMN vat_category         text CHECK (vat_category IN ('S', 'Z', 'E', 'AE', 'K', 'G', 'O')),
    ADD COLUMN vat_exemption_reason text,
    ADD COLUMN unit_code            text;

-- The e-invoice the company's `invoice-issued` e-mails attach instead of the plain PDF.
ALTER TABLE companies
    ADD COLUMN einvoice_format text CHECK (einvoice_format IN ('facturx', 'cii', 'ubl', 'xrechnung'));
