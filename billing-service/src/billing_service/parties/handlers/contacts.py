"""Client-portal contacts of a recipient: the logins its people use to see their invoices."""

from __future__ import annotations

from aiohttp import web

from billing_service.companies.schemas import ContactInvite
from billing_service.parties.keys import CONTACTS
from billing_service.parties.views import ContactView, InvitedContactView
from billing_service.platform.handlers import data, member_scope
from billing_service.platform.idempotency import replay_without_secret
from shared.contract import body_of
from shared.validation import path_id


async def list_contacts(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    contacts = await request.app[CONTACTS].list(scope, path_id(request))
    return data([ContactView.of(contact) for contact in contacts])


async def invite_contact(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    recipient_id = path_id(request)
    body = await body_of(request, ContactInvite)
    contact, generated = await request.app[CONTACTS].invite(
        scope, recipient_id, body.email, body.name, body.password
    )
    if generated is None:
        return data(ContactView.of(contact), status=201)
    # The generated password is shown in this answer only: an Idempotency-Key replay gets
    # the same answer with `password` null (the contact exists; its password is not kept).
    response = data(InvitedContactView.of(contact | {"password": generated}), status=201)
    replayed = InvitedContactView.of(contact | {"password": None})
    return replay_without_secret(response, {"data": replayed})
