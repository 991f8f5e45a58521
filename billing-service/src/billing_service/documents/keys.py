"""The typed application keys of the documents services."""

from __future__ import annotations

from aiohttp import web

from billing_service.documents.pdf_client import PdfClient
from billing_service.documents.services.documents import DocumentService
from billing_service.documents.services.einvoices import EinvoiceService

PDF = web.AppKey("pdf", PdfClient)
DOCUMENTS = web.AppKey("documents", DocumentService)
EINVOICES = web.AppKey("einvoices", EinvoiceService)
