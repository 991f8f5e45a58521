"""CSV exports (invoices, payments, customers, products) and imports (customers, products)."""
