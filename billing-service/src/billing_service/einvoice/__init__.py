"""Electronic invoices (EN 16931): a neutral model and its CII and UBL renderings."""
