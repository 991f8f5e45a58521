"""What each tag of the public document is about, in the order /docs lists them. A tag the
services use and this list lacks is still listed (with the service's own description, if
any); the gateway's tests ask for one here."""

from __future__ import annotations

TAG_DESCRIPTIONS: dict[str, str] = {
    "Authentication": "Personal access tokens: log in, list and revoke them, log out; who "
    "the caller is.",
    "Profile": "The caller's own profile.",
    "Companies": "Companies: the workspaces every record belongs to, with their members "
    "(owner, admin, member).",
    "Members": "The members of a company and their roles.",
    "Teams": "Companies under InvoiceFlow's name, and the caller's current one (the default "
    "for records created without `company_id`).",
    "Organisations": "Organisations group recipients inside a company.",
    "Invoicers": 'Invoicers: billing profiles, the "from" side of an invoice, with their '
    "payment details.",
    "Payment details": "How an invoicer is paid (bank accounts and the like), printed on invoices.",
    "Recipients": 'Recipients: the "to" side of an invoice, per organisation.',
    "Customers": "Recipients under InvoiceFlow's name.",
    "Buyers": "Recipients under InvoisX's name.",
    "Contacts": "A recipient's client-portal users, who read its invoices and quotes.",
    "Products": "Products and services with their prices, to put on invoice lines.",
    "Invoices": "Invoices, from draft to paid: lines, totals, the lifecycle actions, e-mail, "
    "PDFs and recurring templates.",
    "Invoice actions": "An invoice's lifecycle: approve, send, pay, cancel, schedule, convert "
    "and the other actions its `available_actions` lists.",
    "Quotes": "Quotes: offers that a customer accepts or declines, and that convert to invoices.",
    "Estimates": "Estimates: like quotes, converted to invoices with convert-to-invoice.",
    "Documents": "PDF documents of invoices: signed download links and regeneration.",
    "Public pages": "Pages an invoice's recipient opens without a token (the link is the secret).",
    "Webhooks": "Endpoints that receive the company's events as signed POSTs, with their "
    "delivery attempts.",
    "Events": "The company's event log (what webhooks deliver), readable and resumable by id.",
    "Files": "Signed, expiring PDF downloads (the signature is the credential).",
    "Documentation": "This document, and the interactive reference built from it.",
}
