"""The event log: every change a webhook receiver may care about, written in the change's
transaction, and read back."""
