"""Every event type the log writes and an endpoint may subscribe to: the vocabulary the
event log, the webhook schemas and the documentation share."""

from __future__ import annotations

# What happens to a record of the invoices table, per type: its events are `<type>.<verb>`.
# Only what lifecycle.py lets happen to the type: only quotes are declined or become
# converted (a quote's invoice), only invoices are paid or overdue; every type may be
# cancelled and have its PDF rendered (regenerate). A template's generated invoice is
# `recurring.invoice_generated`, carrying (and ordered by) the generated invoice.
DOCUMENT_VERBS: dict[str, tuple[str, ...]] = {
    "invoice": (
        "created",
        "updated",
        "approved",
        "sent",
        "payment_recorded",
        "paid",
        "refunded",
        "credited",
        "cancelled",
        "overdue",
        "reminder_sent",  # an automatic reminder (dunning): data.reminder says which
        "deleted",
        "pdf_ready",
    ),
    "quote": (
        "created",
        "updated",
        "approved",
        "sent",
        "cancelled",
        "declined",
        "converted",
        "deleted",
        "pdf_ready",
    ),
    "recurring": ("created", "updated", "cancelled", "deleted", "pdf_ready", "invoice_generated"),
    "template": ("created", "updated", "cancelled", "deleted", "pdf_ready"),
    # Approving a credit note issues it (the invoice is then `invoice.credited`).
    "credit_note": ("created", "updated", "approved", "sent", "cancelled", "deleted", "pdf_ready"),
}
OTHER_EVENTS = (
    "payment.received",
    "customer.credit_changed",
    "recipient.created",
    "recipient.updated",
    "recipient.deleted",
    "email.delivered",
    "email.failed",
    "webhook.test",
)
# Every event type, in the order the documentation lists them.
EVENT_TYPES: tuple[str, ...] = (
    tuple(f"{kind}.{verb}" for kind, verbs in DOCUMENT_VERBS.items() for verb in verbs)
    + OTHER_EVENTS
)
# What an endpoint may subscribe to: a type, a family (`invoice.*`), or everything (`*`).
SUBSCRIBABLE: frozenset[str] = frozenset(
    {"*", *EVENT_TYPES, *{f"{kind.split('.')[0]}.*" for kind in EVENT_TYPES}}
)
