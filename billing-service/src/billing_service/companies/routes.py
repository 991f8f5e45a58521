"""Operations of companies, their members, InvoiceFlow's teams and recipients' contacts."""

from __future__ import annotations

from typing import Any

from billing_service.companies.handlers import companies, teams
from billing_service.companies.schemas import (
    CompanyCreate,
    CompanyUpdate,
    MemberAdd,
    RoleChange,
    TeamSwitch,
)
from billing_service.companies.views import CompanyView, MemberView, TeamRef, TeamView
from shared.contract import Data, NoContent, Operation, Paged, requires
from shared.pagination import PageParams

V1 = "/api/v1"
COMPANIES, COMPANY = f"{V1}/companies", f"{V1}/companies/{{id}}"
MEMBERS, MEMBER = f"{COMPANY}/members", f"{COMPANY}/members/{{user_id}}"


def _company(
    method: str, path: str, handler: Any, ability: str, *rest: Any, **more: Any
) -> Operation:
    return Operation(
        method, path, handler, requires(ability), rest[0], "Companies", *rest[1:], **more
    )


def _companies() -> list[Operation]:
    updates = {"body": CompanyUpdate, "errors": (403, 422)}
    return [
        _company(
            "GET",
            COMPANIES,
            companies.list_companies,
            "companies:read",
            "List the caller's companies",
            "list_companies",
            Paged(CompanyView),
            query=PageParams,
        ),
        _company(
            "POST",
            COMPANIES,
            companies.create_company,
            "companies:create",
            "Create a company (the caller becomes its owner)",
            "create_company",
            Data(CompanyView),
            status=201,
            body=CompanyCreate,
            errors=(403,),
        ),
        _company(
            "GET",
            COMPANY,
            companies.get_company,
            "companies:read",
            "Get a company",
            "get_company",
            Data(CompanyView),
        ),
        _company(
            "PUT",
            COMPANY,
            companies.update_company,
            "companies:update",
            "Update a company",
            "update_company",
            Data(CompanyView),
            **updates,
        ),
        _company(
            "PATCH",
            COMPANY,
            companies.update_company,
            "companies:update",
            "Update a company (the fields sent)",
            "patch_company",
            Data(CompanyView),
            **updates,
        ),
        _company(
            "DELETE",
            COMPANY,
            companies.delete_company,
            "companies:delete",
            "Delete a company",
            "delete_company",
            NoContent(),
            status=204,
            errors=(403, 409),
            description="409 while the company has invoices.",
        ),
    ]


def _members() -> list[Operation]:
    change = {"body": RoleChange, "errors": (403, 409)}
    return [
        _company(
            "GET",
            MEMBERS,
            teams.list_members,
            "companies:read",
            "List a company's members",
            "list_members",
            Data(list[MemberView]),
        ),
        _company(
            "POST",
            MEMBERS,
            teams.add_member,
            "companies:update",
            "Add a member to a company (by the e-mail of their account)",
            "add_member",
            Data(MemberView),
            status=201,
            body=MemberAdd,
            errors=(403,),
        ),
        _company(
            "PUT",
            MEMBER,
            teams.change_role,
            "companies:update",
            "Change a member's role",
            "change_member_role",
            Data(MemberView),
            **change,
        ),
        _company(
            "PATCH",
            MEMBER,
            teams.change_role,
            "companies:update",
            "Change a member's role (PATCH)",
            "patch_member_role",
            Data(MemberView),
            **change,
        ),
        _company(
            "DELETE",
            MEMBER,
            teams.remove_member,
            "companies:update",
            "Remove a member from a company (or leave it)",
            "remove_member",
            NoContent(),
            status=204,
            errors=(403, 409),
        ),
    ]


def _teams() -> list[Operation]:
    read = requires("teams:read")
    return [
        Operation(
            "GET",
            f"{V1}/teams",
            teams.list_teams,
            read,
            "List the caller's teams",
            "Teams",
            "list_teams",
            Data(list[TeamView]),
        ),
        Operation(
            "GET",
            f"{V1}/teams/current",
            teams.current_team,
            read,
            "Get the current team",
            "Teams",
            "current_team",
            Data(TeamView | None),
        ),
        Operation(
            "POST",
            f"{V1}/teams/switch",
            teams.switch_team,
            requires("teams:update"),
            "Switch the current team",
            "Teams",
            "switch_team",
            Data(TeamRef, message=True),
            body=TeamSwitch,
            errors=(403,),
        ),
    ]


def operations() -> list[Operation]:
    return [*_companies(), *_members(), *_teams()]
