"""What every domain stands on: settings, AppKeys of the shared resources, loops, idempotency,
the caller's scope and permissions, money and dates, and the SQL and handler helpers."""
