"""Companies, their members and teams (the tenants), and records scoped to them."""
