"""Every typed application key of billing-service."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from billing_service.auth_client import AuthClient
from billing_service.loops import BackgroundLoop
from billing_service.pdf_client import PdfClient
from billing_service.services.companies import CompanyService, MemberService, TeamService
from billing_service.services.contacts import ContactService
from billing_service.services.documents import DocumentService
from billing_service.services.einvoices import EinvoiceService
from billing_service.services.events import EventLog
from billing_service.services.invoice_actions import InvoiceActions
from billing_service.services.invoice_conversion import InvoiceConversion
from billing_service.services.invoice_editing import InvoiceEditor
from billing_service.services.invoice_queries import InvoiceQueries
from billing_service.services.mailer import Mailer
from billing_service.services.products import ProductService
from billing_service.services.recipients import RecipientService
from billing_service.services.recurring import RecurringService, Scheduler
from billing_service.services.resources import (
    InvoicerService,
    OrganisationService,
    PaymentDetailService,
)
from billing_service.services.webhook_delivery import WebhookDelivery
from billing_service.services.webhooks import EventQueries, WebhookService
from billing_service.settings import Settings
from billing_service.webhook_http import WebhookHttp

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
COMPANIES = web.AppKey("companies", CompanyService)
ORGANISATIONS = web.AppKey("organisations", OrganisationService)
INVOICERS = web.AppKey("invoicers", InvoicerService)
PAYMENT_DETAILS = web.AppKey("payment_details", PaymentDetailService)
RECIPIENTS = web.AppKey("recipients", RecipientService)
PRODUCTS = web.AppKey("products", ProductService)
INVOICES = web.AppKey("invoices", InvoiceQueries)  # the invoices table, read
INVOICE_EDITS = web.AppKey("invoice_edits", InvoiceEditor)
INVOICE_ACTIONS = web.AppKey("invoice_actions", InvoiceActions)
CONVERSIONS = web.AppKey("conversions", InvoiceConversion)
AUTH = web.AppKey("auth", AuthClient)
MEMBERS = web.AppKey("members", MemberService)
TEAMS = web.AppKey("teams", TeamService)
CONTACTS = web.AppKey("contacts", ContactService)
RECURRING = web.AppKey("recurring", RecurringService)
SCHEDULER = web.AppKey("scheduler", Scheduler)
PDF = web.AppKey("pdf", PdfClient)
DOCUMENTS = web.AppKey("documents", DocumentService)
EINVOICES = web.AppKey("einvoices", EinvoiceService)
MAILER = web.AppKey("mailer", Mailer)
EVENTS = web.AppKey("events", EventLog)  # the event log every change writes to
WEBHOOKS = web.AppKey("webhooks", WebhookService)
EVENT_QUERIES = web.AppKey("event_queries", EventQueries)  # the event log, read
LOOPS = web.AppKey("loops", dict[str, BackgroundLoop])  # by name, the running ones
WEBHOOK_HTTP = web.AppKey("webhook_http", WebhookHttp)  # the guarded session of deliveries
WEBHOOK_DELIVERY = web.AppKey("webhook_delivery", WebhookDelivery)
