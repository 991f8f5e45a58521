"""The typed application keys of the parties services."""

from __future__ import annotations

from aiohttp import web

from billing_service.parties.services.contacts import ContactService
from billing_service.parties.services.logos import LogoService
from billing_service.parties.services.products import ProductService
from billing_service.parties.services.recipients import RecipientService
from billing_service.parties.services.resources import (
    InvoicerService,
    OrganisationService,
    PaymentDetailService,
)

ORGANISATIONS = web.AppKey("organisations", OrganisationService)
INVOICERS = web.AppKey("invoicers", InvoicerService)
PAYMENT_DETAILS = web.AppKey("payment_details", PaymentDetailService)
RECIPIENTS = web.AppKey("recipients", RecipientService)
PRODUCTS = web.AppKey("products", ProductService)
CONTACTS = web.AppKey("contacts", ContactService)
LOGOS = web.AppKey("logos", LogoService)
