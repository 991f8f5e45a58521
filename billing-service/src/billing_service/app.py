"""billing-service: the invoicing domain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web

from billing_service.companies.keys import COMPANIES, MEMBERS, TEAMS
from billing_service.companies.services.companies import (
    CompanyService,
    MemberService,
    PersonalTeams,
    TeamService,
)
from billing_service.documents.keys import DOCUMENTS, EINVOICES, PDF
from billing_service.documents.pdf_client import PdfClient
from billing_service.documents.services.documents import DocumentService
from billing_service.documents.services.einvoices import EinvoiceService
from billing_service.dunning.keys import REMINDER_SETTINGS, REMINDERS
from billing_service.dunning.services.reminders import Reminders
from billing_service.dunning.services.settings import ReminderSettings
from billing_service.events.keys import EVENTS
from billing_service.events.repositories import WAKE_DELIVERIES
from billing_service.events.services import EventLog
from billing_service.exchange.keys import EXPORTS, IMPORTS
from billing_service.exchange.routes import LARGE_BODIES
from billing_service.exchange.services.exports import Exports
from billing_service.exchange.services.imports import Imports
from billing_service.invoices.keys import (
    CONVERSIONS,
    INVOICE_ACTIONS,
    INVOICE_EDITS,
    INVOICE_QUERIES,
)
from billing_service.invoices.services.actions import InvoiceActions
from billing_service.invoices.services.conversion import InvoiceConversion
from billing_service.invoices.services.editing import InvoiceEditor
from billing_service.invoices.services.queries import InvoiceQueries
from billing_service.invoices.services.records import InvoiceRecords
from billing_service.mail.keys import MAILER
from billing_service.mail.services.mailer import Mailer
from billing_service.mail.services.quota import MailQuota
from billing_service.parties.keys import (
    CONTACTS,
    INVOICERS,
    LOGOS,
    ORGANISATIONS,
    PAYMENT_DETAILS,
    PRODUCTS,
    RECIPIENTS,
)
from billing_service.parties.services.contacts import ContactService
from billing_service.parties.services.logos import LogoService
from billing_service.parties.services.products import ProductService
from billing_service.parties.services.recipients import RecipientService
from billing_service.parties.services.resources import (
    InvoicerService,
    OrganisationService,
    PaymentDetailService,
)
from billing_service.platform.auth_client import AuthClient
from billing_service.platform.body_limits import body_limit_middleware
from billing_service.platform.idempotency import idempotency_middleware
from billing_service.platform.keys import AUTH, LOOPS, POOL, SETTINGS
from billing_service.platform.loops import BackgroundLoop, LoopContext, LoopMetrics, Notifications
from billing_service.platform.settings import Settings
from billing_service.receivables.keys import CREDIT_NOTES, RECEIVED_PAYMENTS, REFUNDS
from billing_service.receivables.services.credit_notes import CreditNotes
from billing_service.receivables.services.payments import ReceivedPayments
from billing_service.receivables.services.refunds import Refunds
from billing_service.reports.keys import REPORTS
from billing_service.reports.services import Reports
from billing_service.routes import add_routes
from billing_service.scheduling.keys import RECURRING, SCHEDULER
from billing_service.scheduling.services.recurring import RecurringService
from billing_service.scheduling.services.scheduler import Scheduler, SchedulerLimits
from billing_service.statements.keys import STATEMENTS
from billing_service.statements.services.statements import Statements
from billing_service.webhooks.http import webhook_http_context
from billing_service.webhooks.keys import EVENT_QUERIES, WEBHOOK_DELIVERY, WEBHOOK_HTTP, WEBHOOKS
from billing_service.webhooks.secrets import SecretBox
from billing_service.webhooks.services.delivery import WebhookDelivery, WebhookMetrics
from billing_service.webhooks.services.endpoints import EventQueries, WebhookService
from shared.clock import CLOCK, Clock, system_clock
from shared.db import check_pool, pool_context
from shared.http_client import client_context
from shared.identity import identity_middleware, verifier_context
from shared.logging import configure_logging
from shared.openapi import add_document_route
from shared.pagination import PUBLIC_BASE_URL
from shared.web import METRICS_REGISTRY, ReadinessCheck, add_readiness_check, create_base_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def _services(app: web.Application) -> AsyncIterator[None]:
    pool, settings = app[POOL], app[SETTINGS]
    personal = PersonalTeams(app[AUTH])
    app[COMPANIES] = CompanyService(pool, app[AUTH])
    app[ORGANISATIONS] = OrganisationService(pool, personal)
    app[INVOICERS] = InvoicerService(pool, personal)
    app[PAYMENT_DETAILS] = PaymentDetailService(pool, personal)
    app[LOGOS] = LogoService(pool)
    app[EVENTS] = EventLog(app[CLOCK], settings.public_base_url)
    app[RECIPIENTS] = RecipientService(pool, personal, app[ORGANISATIONS], app[AUTH], app[EVENTS])
    app[PRODUCTS] = ProductService(pool, personal)
    box = SecretBox(settings.webhook_secret_key.get_secret_value())
    app[WEBHOOKS] = WebhookService(pool, personal, app[EVENTS], box, settings)
    app[EVENT_QUERIES] = EventQueries(pool)
    records = InvoiceRecords(pool, app[CLOCK], app[EVENTS])
    quota = MailQuota.from_settings(settings)
    app[INVOICE_QUERIES] = InvoiceQueries(records)
    app[DOCUMENTS] = DocumentService(
        pool, app[INVOICE_QUERIES], app[PDF], settings.document_locale, app[CLOCK]
    )
    app[EINVOICES] = EinvoiceService(app[DOCUMENTS])
    app[CREDIT_NOTES] = CreditNotes(records)
    app[INVOICE_EDITS] = InvoiceEditor(records, personal, app[CREDIT_NOTES])
    app[REFUNDS] = Refunds(records)
    app[RECEIVED_PAYMENTS] = ReceivedPayments(records)
    app[REPORTS] = Reports(pool, app[CLOCK])
    app[INVOICE_ACTIONS] = InvoiceActions(
        records,
        quota,
        app[DOCUMENTS].render_after_approval,
        users=app[AUTH],
        credit_notes=app[CREDIT_NOTES],
    )
    app[CONVERSIONS] = InvoiceConversion(records)
    app[RECURRING] = RecurringService(records, quota)
    app[REMINDER_SETTINGS] = ReminderSettings(pool)
    app[REMINDERS] = Reminders(records, quota, app[INVOICE_ACTIONS].addressees)
    app[SCHEDULER] = Scheduler(
        pool,
        app[RECURRING],
        app[CLOCK],
        SchedulerLimits.from_settings(settings),
        added_steps=[app[REMINDERS].scheduler_step],
    )
    app[EXPORTS] = Exports(pool, personal)
    writers = {"customers": app[RECIPIENTS].create_many, "products": app[PRODUCTS].create_many}
    app[IMPORTS] = Imports(pool, personal, writers)
    app[MEMBERS] = MemberService(pool, app[COMPANIES], app[AUTH])
    app[TEAMS] = TeamService(pool, personal)
    app[CONTACTS] = ContactService(pool, app[RECIPIENTS], app[AUTH])
    app[MAILER] = Mailer(pool, app[DOCUMENTS], app[SETTINGS], app[CLOCK], app[EVENTS])
    app[STATEMENTS] = Statements(pool, app[PDF], quota, app[CLOCK], settings.document_locale)
    app[WEBHOOK_DELIVERY] = WebhookDelivery(
        pool,
        app[WEBHOOK_HTTP],
        app[AUTH],
        settings,
        app[CLOCK],
        WebhookMetrics(app[METRICS_REGISTRY]),
    )
    # Background loops, in every replica (their work is claimed with SKIP LOCKED).
    passes: dict[str, Callable[[LoopContext], Awaitable[object]]] = {
        "scheduler": app[SCHEDULER].run_once,
        "mailer": app[MAILER].run_once,
        "webhooks": app[WEBHOOK_DELIVERY].run_once,
    }
    loop_metrics = LoopMetrics(app[METRICS_REGISTRY])
    for name, interval in _enabled_loops(settings).items():
        loop = BackgroundLoop(
            name, passes[name], interval, settings.loop_stale_intervals, metrics=loop_metrics
        )
        app[LOOPS][name] = loop
        loop.start()
    notifications = Notifications(settings.database_url)
    if "webhooks" in app[LOOPS]:  # a change that queued deliveries wakes the loop at commit
        notifications.subscribe(WAKE_DELIVERIES, app[LOOPS]["webhooks"])
        notifications.start()
        app[WEBHOOK_DELIVERY].on_backlog = app[LOOPS]["webhooks"].wake
    yield
    await notifications.stop()
    for loop in app[LOOPS].values():
        await loop.stop(bound=settings.shutdown_timeout_seconds)
    await app[WEBHOOK_DELIVERY].land(bound=settings.shutdown_timeout_seconds)


def _enabled_loops(settings: Settings) -> dict[str, float]:
    """The background loops this replica runs, with their intervals."""
    loops = {}
    if settings.scheduler_enabled:
        loops["scheduler"] = settings.scheduler_interval_seconds
    if settings.mailer_enabled:
        loops["mailer"] = settings.mailer_interval_seconds
    if settings.webhooks_enabled:
        loops["webhooks"] = settings.webhook_interval_seconds
    return loops


def _loop_check(name: str) -> ReadinessCheck:
    async def check(app: web.Application) -> None:
        app[LOOPS][name].check()

    return check


def _is_public(request: web.Request) -> bool:
    return request.path.startswith("/i/")  # the public invoice page: its id is the secret


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> web.Application:
    """`clock` is the source of the current instant (tests move time with it)."""
    settings = settings or Settings()
    configure_logging("billing-service", settings.log_level, settings.log_json)
    app = create_base_app(
        "billing-service",
        middlewares=[
            identity_middleware(_is_public),
            body_limit_middleware(LARGE_BODIES),
            idempotency_middleware,
        ],
    )
    app[SETTINGS] = settings
    app[PUBLIC_BASE_URL] = settings.public_base_url
    app[CLOCK] = clock or system_clock
    app.cleanup_ctx.append(
        pool_context(
            POOL,
            lambda a: a[SETTINGS].database_url,
            migrations=MIGRATIONS,
            max_size=settings.db_pool_size,
        )
    )
    app.cleanup_ctx.append(verifier_context(lambda a: a[SETTINGS].auth_jwks_url))
    secret = settings.internal_secret.get_secret_value()
    app.cleanup_ctx.append(
        client_context(
            AUTH,
            lambda session, _: AuthClient(session, settings.auth_url, secret),
            aiohttp.ClientTimeout(total=10),
        )
    )
    app.cleanup_ctx.append(
        client_context(
            PDF,
            lambda session, _: PdfClient(session, settings.pdf_url, secret),
            aiohttp.ClientTimeout(total=30, connect=3),
        )
    )
    app.cleanup_ctx.append(webhook_http_context(WEBHOOK_HTTP, lambda a: a[SETTINGS]))
    app.cleanup_ctx.append(_services)
    add_readiness_check(app, "postgres", lambda a: check_pool(a[POOL]))
    app[LOOPS] = {}
    for name in _enabled_loops(settings):
        add_readiness_check(app, name, _loop_check(name))
    aiohttp_jinja2.setup(
        app, loader=jinja2.PackageLoader("billing_service", "templates"), autoescape=True
    )
    add_routes(app)
    add_document_route(app, title="billing-service")
    return app
