"""Reports for a company's accountant: ageing of receivables, VAT, revenue (JSON or CSV)."""
