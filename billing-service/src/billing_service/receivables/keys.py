"""The typed application keys of accounts receivable."""

from __future__ import annotations

from aiohttp import web

from billing_service.receivables.services.credit_notes import CreditNotes
from billing_service.receivables.services.payments import ReceivedPayments
from billing_service.receivables.services.refunds import Refunds

CREDIT_NOTES = web.AppKey("credit_notes", CreditNotes)
REFUNDS = web.AppKey("refunds", Refunds)
RECEIVED_PAYMENTS = web.AppKey("received_payments", ReceivedPayments)
