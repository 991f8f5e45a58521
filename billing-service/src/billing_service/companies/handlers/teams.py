"""Company members and InvoiceFlow's teams."""

from __future__ import annotations

from aiohttp import web

from billing_service.companies.keys import MEMBERS, TEAMS
from billing_service.companies.schemas import MemberAdd, RoleChange, TeamSwitch
from billing_service.companies.views import MemberView, TeamRef, TeamView
from billing_service.platform.handlers import data, no_content
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
