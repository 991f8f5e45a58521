"""Companies: the tenants. The caller sees only companies they are a member of."""

from __future__ import annotations

import re
import unicodedata
from types import EllipsisType

import asyncpg

from billing_service.companies import repositories as repo
from billing_service.companies.repositories import Company
from billing_service.platform.auth_client import AuthClient, User
from billing_service.platform.money import DEFAULT_CURRENCY
from billing_service.platform.permissions import require_role
from billing_service.platform.references import denied_reference, invalid_reference
from billing_service.platform.repositories import scope as scope_repo
from shared.errors import (
    ApiError,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from shared.identity import Identity
from shared.logging import get_logger
from shared.pagination import Page, PageParams

log = get_logger("billing.companies")

FALLBACK_TEAM_NAME = "My Team"
MAX_FIRST_NAME = 240  # "<first name>'s Team" stays within a company name's 255 characters


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "company"


def _first_free(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def _require_member_kind(identity: Identity) -> None:
    if identity.kind != "member":
        raise Forbidden("Client-portal users cannot manage companies.")


class CompanyService:
    def __init__(self, pool: asyncpg.Pool, users: AuthClient) -> None:
        self._pool = pool
        self._users = users

    async def list(self, identity: Identity, params: PageParams) -> Page:
        companies = await repo.page_for_member(
            self._pool, identity.user_id, params.per_page, params.offset
        )
        total = await repo.count_for_member(self._pool, identity.user_id)
        return Page(companies, total, params)

    async def get(self, identity: Identity, company_id: int) -> Company:
        company = await repo.one_for_member(self._pool, identity.user_id, company_id)
        if company is None:
            raise NotFound("Company not found.")
        return company

    async def create(
        self,
        identity: Identity,
        name: str,
        slug: str | None,
        timezone: str = "UTC",
        currency: str = DEFAULT_CURRENCY,
        einvoice_format: str | None = None,
    ) -> Company:
        _require_member_kind(identity)
        async with self._pool.acquire() as conn, conn.transaction():
            return await insert_company(
                conn,
                identity.user_id,
                name,
                slug,
                timezone=timezone,
                currency=currency,
                einvoice_format=einvoice_format,
            )

    async def update(
        self,
        identity: Identity,
        company_id: int,
        name: str | None,
        slug: str | None,
        timezone: str | None = None,
        currency: str | None = None,
        einvoice_format: str | EllipsisType | None = ...,  # ...: kept (None turns it off)
    ) -> Company:
        _require_member_kind(identity)
        async with self._pool.acquire() as conn, conn.transaction():
            company = await repo.one_for_member(conn, identity.user_id, company_id, lock=True)
            if company is None:
                raise NotFound("Company not found.")
            require_role(company.role, "company.update")
            new_slug = slug or company.slug
            if new_slug != company.slug and await repo.slug_taken(conn, new_slug, company.id):
                raise _slug_taken()
            try:
                return await repo.update(
                    conn,
                    company,
                    name or company.name,
                    new_slug,
                    timezone or company.timezone,
                    currency or company.currency,
                    company.einvoice_format if einvoice_format is ... else einvoice_format,
                )
            except asyncpg.UniqueViolationError:
                raise _slug_taken() from None

    async def delete(self, identity: Identity, company_id: int) -> None:
        _require_member_kind(identity)
        async with self._pool.acquire() as conn, conn.transaction():
            company = await repo.one_for_member(conn, identity.user_id, company_id, lock=True)
            if company is None:
                raise NotFound("Company not found.")
            require_role(company.role, "company.delete")
            if await repo.has_invoices(conn, company.id):
                raise Conflict("A company with invoices cannot be deleted.")
            logins = await repo.contact_logins(conn, company_id=company.id)
            await repo.delete(conn, company.id)
            # Its recipients' client-portal logins go with it (a failure undoes the delete).
            await self._users.delete_all(logins)


def _slug_taken() -> ValidationFailed:
    return ValidationFailed.field("slug", "The slug has already been taken.")


async def insert_company(
    conn: asyncpg.Connection,
    owner_id: int,
    name: str,
    slug: str | None,
    *,
    timezone: str = "UTC",
    currency: str = DEFAULT_CURRENCY,
    einvoice_format: str | None = None,
) -> Company:
    """A new company owned by `owner_id`, inside the caller's transaction. A generated slug
    gets the first free suffix; an explicit one already taken is a 422 on slug."""
    base = slug or slugify(name)
    for _ in range(3):
        try:
            async with conn.transaction():  # a savepoint: a lost race is retried, not fatal
                # Creations wanting the same slug queue here instead of colliding.
                await repo.lock_slug(conn, base)
                chosen = await _slug_for_new(conn, base, explicit=slug is not None)
                return await repo.insert(
                    conn, name, chosen, owner_id, timezone, currency, einvoice_format
                )
        except asyncpg.UniqueViolationError:
            if slug is not None:
                raise _slug_taken() from None
            # A generated slug met an explicit one chosen meanwhile: pick again.
    raise _slug_taken()


async def _slug_for_new(conn: asyncpg.Connection, base: str, *, explicit: bool) -> str:
    if explicit:
        if await repo.slug_taken(conn, base):
            raise _slug_taken()
        return base
    return _first_free(base, await repo.slugs_like(conn, base))


class PersonalTeams:
    """Every member has a team (InvoiceFlow assumes one): a member in no company gets a
    personal one, "<first name>'s Team" with them as owner and made their current company,
    the first time a request needs a current company.

    The name comes from auth-service's user directory (the identity JWT carries no name),
    asked once per user, when the team is made. Without a first name (none set, the user
    gone, the directory down) the team is "My Team": a team to work in matters more than
    its name, which the owner can change (PUT /companies/{id})."""

    def __init__(self, users: AuthClient | None) -> None:
        self._users = users

    async def ensure(self, conn: asyncpg.Connection, user_id: int) -> dict[int, str]:
        """The user's memberships (company id -> role), after creating their personal team
        if they had none. Concurrent first requests of one user queue on a lock held until
        the creating transaction ends; the later ones then find the team."""
        await repo.lock_personal_team(conn, user_id)
        roles = await scope_repo.memberships(conn, user_id)
        if roles:
            return roles
        team = await insert_company(conn, user_id, await self._team_name(user_id), None)
        await scope_repo.set_current_company(conn, user_id, team.id)
        return {team.id: team.role}

    async def _team_name(self, user_id: int) -> str:
        first = await self._first_name(user_id)
        return f"{first[:MAX_FIRST_NAME]}'s Team" if first else FALLBACK_TEAM_NAME

    async def _first_name(self, user_id: int) -> str | None:
        if self._users is None:
            return None
        try:
            user = (await self._users.find_by_ids([user_id])).get(user_id)
        except ApiError:
            log.warning("personal_team_name_unknown", user_id=user_id, exc_info=True)
            return None
        if user is None:
            return None
        # The first name as the user gave it, else the first word of their name.
        return (user.first_name or "").strip() or next(iter(user.name.split()), None)


class MemberService:
    """Members of a company, added by e-mail; roles owner, admin, member."""

    def __init__(self, pool: asyncpg.Pool, companies: CompanyService, users: AuthClient) -> None:
        self._pool = pool
        self._companies = companies
        self._users = users

    async def list(
        self, identity: Identity, company_id: int
    ) -> list[tuple[repo.Member, User | None]]:
        company = await self._companies.get(identity, company_id)
        found = await repo.members(self._pool, company.id)
        users = await self._users.find_by_ids([member.user_id for member in found])
        return [(member, users.get(member.user_id)) for member in found]

    async def add(
        self, identity: Identity, company_id: int, email: str, role: str
    ) -> tuple[repo.Member, User]:
        _require_member_kind(identity)
        company = await self._companies.get(identity, company_id)
        _require_manager(company, role)
        user = await self._users.find_by_email(email)
        if user is None or user.kind != "member":
            raise ValidationFailed.field("email", "No team member account uses this e-mail.")
        added = await repo.add_member(self._pool, company.id, user.id, role)
        if added is None:
            raise ValidationFailed.field("email", "This user is a member already.")
        return added, user

    async def change_role(
        self, identity: Identity, company_id: int, user_id: int, role: str
    ) -> repo.Member:
        _require_member_kind(identity)
        async with self._pool.acquire() as conn, conn.transaction():
            company = await repo.one_for_member(conn, identity.user_id, company_id, lock=True)
            if company is None:
                raise NotFound("Company not found.")
            _require_manager(company, role)
            target = await repo.member(conn, company.id, user_id)
            if target is None:
                raise NotFound("Member not found.")
            if target.role == "owner":  # taking the owner role away is changing owners too
                require_role(company.role, "owners.manage")
            if (
                target.role == "owner"
                and role != "owner"
                and await repo.count_owners(conn, company.id) == 1
            ):
                raise Conflict("A company keeps at least one owner.")
            return await repo.set_role(conn, company.id, user_id, role)

    async def remove(self, identity: Identity, company_id: int, user_id: int) -> None:
        _require_member_kind(identity)
        async with self._pool.acquire() as conn, conn.transaction():
            company = await repo.one_for_member(conn, identity.user_id, company_id, lock=True)
            if company is None:
                raise NotFound("Company not found.")
            leaving_self = user_id == identity.user_id
            if not leaving_self:  # anyone may leave; removing others is managing members
                require_role(company.role, "members.manage")
            target = await repo.member(conn, company.id, user_id)
            if target is None:
                raise NotFound("Member not found.")
            if target.role == "owner" and not leaving_self:
                require_role(company.role, "owners.manage")
            if target.role == "owner" and await repo.count_owners(conn, company.id) == 1:
                raise Conflict("A company keeps at least one owner.")
            await repo.remove_member(conn, company.id, user_id)


class TeamService:
    """InvoiceFlow's teams: the caller's companies, one of them current. A member in none is
    given their personal team here too: InvoiceFlow shows every user a current team."""

    def __init__(self, pool: asyncpg.Pool, personal: PersonalTeams) -> None:
        self._pool = pool
        self._personal = personal

    async def teams(self, identity: Identity) -> tuple[list[Company], int | None]:
        async with self._pool.acquire() as conn, conn.transaction():
            companies = await repo.all_for_member(conn, identity.user_id)
            if not companies and identity.kind == "member":
                await self._personal.ensure(conn, identity.user_id)
                companies = await repo.all_for_member(conn, identity.user_id)
            current = await scope_repo.current_company(conn, identity.user_id)
        ids = [company.id for company in companies]
        if current not in ids:
            current = ids[0] if ids else None
        return companies, current

    async def switch(self, identity: Identity, team_id: int) -> Company:
        company = await repo.one_for_member(self._pool, identity.user_id, team_id)
        if company is None:
            # Another tenant's team is a 403, an id that exists nowhere a 422 (docs/api.md).
            if await scope_repo.owner_company(self._pool, "companies", team_id) is None:
                raise invalid_reference("team_id")
            raise denied_reference("companies", "team_id")
        await scope_repo.set_current_company(self._pool, identity.user_id, company.id)
        return company


def _require_manager(company: Company, role: str) -> None:
    """Adding a member or giving a role: managers only; the owner role only owners give."""
    require_role(company.role, "members.manage")
    if role == "owner":
        require_role(company.role, "owners.manage")
