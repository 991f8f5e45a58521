"""What a record becomes for its reader: the PDF (pdf-service), the e-invoice XML, the
public page."""
