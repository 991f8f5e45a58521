"""SQL helpers and the tables of no one domain (scope, idempotency keys)."""
