"""Company members, InvoiceFlow's teams, and client-portal contacts of recipients."""

from __future__ import annotations

from aiohttp import web

from billing_service.handlers.common import data, member_scope, no_content
from billing_service.idempotency import replay_without_secret
from billing_service.keys import CONTACTS, MEMBERS, TEAMS
from billing_service.schemas.companies import ContactInvite, MemberAdd, RoleChange, TeamSwitch
from billing_service.views import ContactView, InvitedContactView, MemberView, TeamRef, TeamView
from shared.contract import body_of
from shared.identity import identity_of
from shared.validation import path_id
from shared.web import json_response


async def list_members(request: web.Request) -> web.Response:
    found = await request.app[MEMBERS].list(identity_of(request), path_id(request))
    return data([MemberView.of(member, user) for member, user in found])


async def add_member(request: web.Request) -> web.Response:
    identity = identity_of(request)
    company_id = path_id(request)
    body = await body_of(request, MemberAdd)
    member, user = await request.app[MEMBERS].add(identity, company_id, body.email, body.role)
    return data(MemberView.of(member, user), status=201)


async def change_role(request: web.Request) -> web.Response:
    identity = identity_of(request)
    company_id, user_id = path_id(request), path_id(request, "user_id")
    body = await body_of(request, RoleChange)
    member = await request.app[MEMBERS].change_role(identity, company_id, user_id, body.role)
    return data(MemberView.of(member, None))


async def remove_member(request: web.Request) -> web.Response:
    identity = identity_of(request)
    await request.app[MEMBERS].remove(identity, path_id(request), path_id(request, "user_id"))
    return no_content()


async def list_teams(request: web.Request) -> web.Response:
    companies, current = await request.app[TEAMS].teams(identity_of(request))
    return data([TeamView.of(company, current) for company in companies])


async def current_team(request: web.Request) -> web.Response:
    companies, current = await request.app[TEAMS].teams(identity_of(request))
    chosen = next((company for company in companies if company.id == current), None)
    return data(TeamView.of(chosen, current) if chosen else None)


async def switch_team(request: web.Request) -> web.Response:
    identity = identity_of(request)
    body = await body_of(request, TeamSwitch)
    company = await request.app[TEAMS].switch(identity, body.team_id)
    return json_response(
        {
            "message": f"Switched to {company.name}",
            "data": TeamRef(id=company.id, name=company.name),
        }
    )


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
