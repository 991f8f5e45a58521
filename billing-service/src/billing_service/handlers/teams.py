"""Company members, InvoiceFlow's teams, and client-portal contacts of recipients."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from billing_service.auth_client import User
from billing_service.handlers.common import data, member_scope, no_content
from billing_service.idempotency import replay_without_secret
from billing_service.keys import CONTACTS, MEMBERS, TEAMS
from billing_service.repositories.companies import Company, Member
from billing_service.schemas.fields import Id, Text
from shared.fields import Email
from shared.identity import require_ability
from shared.validation import parse_body, path_id
from shared.web import json_response

Role = Literal["owner", "admin", "member"]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class MemberAdd(Body):
    email: Email
    role: Role = "member"


class RoleChange(Body):
    role: Role


class Switch(Body):
    team_id: Id


class ContactInvite(Body):
    email: Email
    name: Text = Field(min_length=1)
    password: Annotated[str, Field(min_length=8, max_length=1024)] | None = None


def _member_view(member: Member, user: User | None) -> dict[str, Any]:
    return {
        "user_id": member.user_id,
        "name": user.name if user else None,
        "email": user.email if user else None,
        "role": member.role,
        "created_at": member.created_at,
    }


async def list_members(request: web.Request) -> web.Response:
    identity = require_ability(request, "companies:read")
    found = await request.app[MEMBERS].list(identity, path_id(request))
    return data([_member_view(member, user) for member, user in found])


async def add_member(request: web.Request) -> web.Response:
    identity = require_ability(request, "companies:update")
    company_id = path_id(request)
    body = await parse_body(request, MemberAdd)
    member, user = await request.app[MEMBERS].add(identity, company_id, body.email, body.role)
    return data(_member_view(member, user), status=201)


async def change_role(request: web.Request) -> web.Response:
    identity = require_ability(request, "companies:update")
    company_id, user_id = path_id(request), path_id(request, "user_id")
    body = await parse_body(request, RoleChange)
    member = await request.app[MEMBERS].change_role(identity, company_id, user_id, body.role)
    return data(_member_view(member, None))


async def remove_member(request: web.Request) -> web.Response:
    identity = require_ability(request, "companies:update")
    await request.app[MEMBERS].remove(identity, path_id(request), path_id(request, "user_id"))
    return no_content()


def _team_view(company: Company, current: int | None) -> dict[str, Any]:
    """InvoiceFlow's words: a team has admins and members, and says who owns it apart (the
    owner is an admin with `is_owner`); /companies/{id}/members keeps owner/admin/member."""
    return {
        "id": company.id,
        "name": company.name,
        "slug": company.slug,
        "is_current": company.id == current,
        "is_owner": company.role == "owner",
        "role": "admin" if company.role == "owner" else company.role,
        "plan": {"name": "Self-hosted"},
    }


async def list_teams(request: web.Request) -> web.Response:
    identity = require_ability(request, "teams:read")
    companies, current = await request.app[TEAMS].teams(identity)
    return data([_team_view(company, current) for company in companies])


async def current_team(request: web.Request) -> web.Response:
    identity = require_ability(request, "teams:read")
    companies, current = await request.app[TEAMS].teams(identity)
    chosen = next((company for company in companies if company.id == current), None)
    return data(_team_view(chosen, current) if chosen else None)


async def switch_team(request: web.Request) -> web.Response:
    identity = require_ability(request, "teams:update")
    body = await parse_body(request, Switch)
    company = await request.app[TEAMS].switch(identity, body.team_id)
    return json_response(
        {
            "message": f"Switched to {company.name}",
            "data": {"id": company.id, "name": company.name},
        }
    )


async def list_contacts(request: web.Request) -> web.Response:
    scope = await member_scope(request, "recipients:read")
    contacts = await request.app[CONTACTS].list(scope, path_id(request))
    return data(contacts)


async def invite_contact(request: web.Request) -> web.Response:
    scope = await member_scope(request, "recipients:update")
    recipient_id = path_id(request)
    body = await parse_body(request, ContactInvite)
    contact, generated = await request.app[CONTACTS].invite(
        scope, recipient_id, body.email, body.name, body.password
    )
    view = dict(contact)
    if generated is None:
        return data(view, status=201)
    # The generated password is shown in this answer only: an Idempotency-Key replay gets
    # the same answer with `password` null (the contact exists; its password is not kept).
    response = data(view | {"password": generated}, status=201)
    return replay_without_secret(response, {"data": view | {"password": None}})
