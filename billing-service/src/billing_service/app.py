"""billing-service: the invoicing domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from billing_service.auth_client import auth_client_context
from billing_service.idempotency import idempotency_middleware
from billing_service.keys import (
    AUTH,
    COMPANIES,
    CONTACTS,
    INVOICERS,
    INVOICES,
    MEMBERS,
    ORGANISATIONS,
    PAYMENT_DETAILS,
    POOL,
    PRODUCTS,
    RECIPIENTS,
    SETTINGS,
    TEAMS,
)
from billing_service.routes import add_routes
from billing_service.services.companies import CompanyService, MemberService, TeamService
from billing_service.services.invoices import InvoiceService
from billing_service.services.resources import (
    ContactService,
    InvoicerService,
    OrganisationService,
    PaymentDetailService,
    ProductService,
    RecipientService,
)
from billing_service.settings import Settings
from shared.db import check_pool, pool_context
from shared.identity import identity_middleware, verifier_context
from shared.logging import configure_logging
from shared.web import add_readiness_check, create_base_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def _services(app: web.Application) -> AsyncIterator[None]:
    pool = app[POOL]
    app[COMPANIES] = CompanyService(pool)
    app[ORGANISATIONS] = OrganisationService(pool)
    app[INVOICERS] = InvoicerService(pool)
    app[PAYMENT_DETAILS] = PaymentDetailService(pool)
    app[RECIPIENTS] = RecipientService(pool, app[ORGANISATIONS])
    app[PRODUCTS] = ProductService(pool)
    app[INVOICES] = InvoiceService(pool)
    app[MEMBERS] = MemberService(pool, app[COMPANIES], app[AUTH])
    app[TEAMS] = TeamService(pool)
    app[CONTACTS] = ContactService(pool, app[RECIPIENTS], app[AUTH])
    yield


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings()
    configure_logging("billing-service", settings.log_level, settings.log_json)
    app = create_base_app(
        "billing-service", middlewares=[identity_middleware(), idempotency_middleware]
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(
        pool_context(
            POOL,
            lambda a: a[SETTINGS].database_url,
            migrations=MIGRATIONS,
            max_size=settings.db_pool_size,
        )
    )
    app.cleanup_ctx.append(verifier_context(lambda a: a[SETTINGS].auth_jwks_url))
    app.cleanup_ctx.append(
        auth_client_context(
            AUTH,
            lambda a: a[SETTINGS].auth_url,
            lambda a: a[SETTINGS].internal_secret.get_secret_value(),
        )
    )
    app.cleanup_ctx.append(_services)
    add_readiness_check(app, "postgres", lambda a: check_pool(a[POOL]))
    add_routes(app)
    return app
