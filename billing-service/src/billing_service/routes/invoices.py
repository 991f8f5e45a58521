"""Routes of the invoices table: /invoices (every type), /quotes, /estimates and the actions."""

from __future__ import annotations

from aiohttp import web

from billing_service.handlers import invoices
from billing_service.handlers.invoices import ESTIMATES_FAMILY, INVOICES_FAMILY, QUOTES_FAMILY
from billing_service.routes.resources import crud


def add_routes(app: web.Application) -> None:
    v1 = "/api/v1"
    for path, family in (
        (f"{v1}/invoices", INVOICES_FAMILY),
        (f"{v1}/quotes", QUOTES_FAMILY),
        (f"{v1}/estimates", ESTIMATES_FAMILY),
    ):
        crud(
            app,
            path,
            list_=invoices.list_invoices(family),
            create=invoices.create_invoice(family),
            get=invoices.get_invoice(family),
            update=invoices.update_invoice(family),
            delete=invoices.delete_invoice(family),
        )
    actions = {
        "approve": invoices.approve,
        "send": invoices.send,
        "send-email": invoices.send_email,
        "send-payment-link": invoices.send_payment_link,
        "pay": invoices.pay,
        "cancel": invoices.cancel,
        "decline": invoices.decline,
        "convert": invoices.convert,
        "set-schedule-date": invoices.set_schedule_date,
        "set-due-date": invoices.set_due_date,
        "set-period": invoices.set_period,
        "members": invoices.set_members,
        "create-next": invoices.create_next,
    }
    for action, handler in actions.items():
        app.router.add_post(f"{v1}/invoices/{{id}}/{action}", handler)
    app.router.add_get(f"{v1}/invoices/{{id}}/members", invoices.list_members)
    app.router.add_post(f"{v1}/estimates/{{id}}/convert-to-invoice", invoices.convert_estimate)
