"""Customer statements: a customer's account in one currency over a period, as JSON, as a
PDF rendered by pdf-service, and e-mailed."""
