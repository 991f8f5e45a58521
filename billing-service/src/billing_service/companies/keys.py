"""The typed application keys of the companies services."""

from __future__ import annotations

from aiohttp import web

from billing_service.companies.services.companies import CompanyService, MemberService, TeamService

COMPANIES = web.AppKey("companies", CompanyService)
MEMBERS = web.AppKey("members", MemberService)
TEAMS = web.AppKey("teams", TeamService)
