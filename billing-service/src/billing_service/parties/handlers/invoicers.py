"""What invoicers do besides the generic operations: one invoicer shows its payment details,
which live under it (/invoicers/{id}/payment-details): reading them is reading the invoicer,
and every change to them (and to its logo) is an update of the invoicer (`invoicers:update`)."""

from __future__ import annotations

from aiohttp import web

from billing_service.parties.keys import INVOICERS, LOGOS, PAYMENT_DETAILS
from billing_service.parties.schemas.resources import (
    InvoicerCreate,
    InvoicerUpdate,
    PaymentDetailBody,
    PaymentDetailCreate,
)
from billing_service.parties.services.logos import MAX_UPLOAD_BYTES
from billing_service.parties.views import InvoicerDetailView, LogoView, PaymentDetailView
from billing_service.platform.handlers import data, member_scope, no_content
from shared.contract import body_of
from shared.errors import PayloadTooLarge
from shared.validation import path_id


async def get_invoicer(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    service = request.app[INVOICERS]
    row = await service.get(scope, path_id(request))
    payment_details = await service.payment_details(row["id"])
    return data(InvoicerDetailView.of(row | {"payment_details": payment_details}))


async def create_invoicer(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    body = await body_of(request, InvoicerCreate)
    row = await request.app[INVOICERS].create(scope, body.company_id, body.changes())
    return data(InvoicerDetailView.of(row | {"payment_details": []}), status=201)


async def update_invoicer(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    row_id = path_id(request)
    body = await body_of(request, InvoicerUpdate)
    service = request.app[INVOICERS]
    row = await service.update(scope, row_id, body.changes(), body.company_id)
    payment_details = await service.payment_details(row_id)
    return data(InvoicerDetailView.of(row | {"payment_details": payment_details}))


async def list_payment_details(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    invoicer = await request.app[INVOICERS].get(scope, path_id(request))
    details = await request.app[INVOICERS].payment_details(invoicer["id"])
    return data([PaymentDetailView.of(detail) for detail in details])


async def get_payment_detail(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    row = await request.app[PAYMENT_DETAILS].get_of(
        scope, path_id(request), path_id(request, "detail_id")
    )
    return data(PaymentDetailView.of(row))


async def create_payment_detail(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    invoicer = await request.app[INVOICERS].get(scope, path_id(request))
    body = await body_of(request, PaymentDetailCreate)
    row = await request.app[PAYMENT_DETAILS].create_for(scope, invoicer, body.changes())
    return data(PaymentDetailView.of(row), status=201)


async def update_payment_detail(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    service = request.app[PAYMENT_DETAILS]
    row = await service.get_of(scope, path_id(request), path_id(request, "detail_id"))
    body = await body_of(request, PaymentDetailBody)
    row = await service.update(scope, row["id"], body.changes(), body.company_id)
    return data(PaymentDetailView.of(row))


async def delete_payment_detail(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    service = request.app[PAYMENT_DETAILS]
    row = await service.get_of(scope, path_id(request), path_id(request, "detail_id"))
    await service.delete(scope, row["id"])
    return no_content()


async def put_logo(request: web.Request) -> web.Response:
    """The body is the image itself; what it is comes from decoding it, not from its
    Content-Type or any name."""
    scope = await member_scope(request, None)
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge("The logo is larger than 1 MiB.")
    logo = await request.app[LOGOS].put(scope, path_id(request), await request.read())
    view = LogoView(
        invoicer_id=logo.invoicer_id,
        media_type=logo.media_type,
        width=logo.width,
        height=logo.height,
        size=len(logo.image),
        updated_at=logo.updated_at,
    )
    return data(view)


async def delete_logo(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    await request.app[LOGOS].delete(scope, path_id(request))
    return no_content()
