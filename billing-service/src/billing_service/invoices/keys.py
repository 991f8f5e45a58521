"""The typed application keys of the invoices services."""

from __future__ import annotations

from aiohttp import web

from billing_service.invoices.services.actions import InvoiceActions
from billing_service.invoices.services.conversion import InvoiceConversion
from billing_service.invoices.services.editing import InvoiceEditor
from billing_service.invoices.services.queries import InvoiceQueries

INVOICE_QUERIES = web.AppKey("invoice_queries", InvoiceQueries)  # the invoices table, read
INVOICE_EDITS = web.AppKey("invoice_edits", InvoiceEditor)
INVOICE_ACTIONS = web.AppKey("invoice_actions", InvoiceActions)
CONVERSIONS = web.AppKey("conversions", InvoiceConversion)
