"""Companies: the tenants. The caller sees only companies they are a member of."""

from __future__ import annotations

import re
import unicodedata

import asyncpg

from billing_service.repositories import companies as repo
from billing_service.repositories.companies import Company
from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.identity import Identity
from shared.pagination import Page, PageParams

MANAGER_ROLES = frozenset({"owner", "admin"})


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
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

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

    async def create(self, identity: Identity, name: str, slug: str | None) -> Company:
        _require_member_kind(identity)
        base = slug or slugify(name)
        for _ in range(3):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    # Creations wanting the same slug queue here instead of colliding.
                    await repo.lock_slug(conn, base)
                    chosen = await self._slug_for_new(conn, base, explicit=slug is not None)
                    return await repo.insert(conn, name, chosen, identity.user_id)
            except asyncpg.UniqueViolationError:
                if slug is not None:
                    raise _slug_taken() from None
                # A generated slug met an explicit one chosen meanwhile: pick again.
        raise _slug_taken()

    async def _slug_for_new(self, conn: asyncpg.Connection, base: str, *, explicit: bool) -> str:
        if explicit:
            if await repo.slug_taken(conn, base):
                raise _slug_taken()
            return base
        return _first_free(base, await repo.slugs_like(conn, base))

    async def update(
        self, identity: Identity, company_id: int, name: str | None, slug: str | None
    ) -> Company:
        _require_member_kind(identity)
        async with self._pool.acquire() as conn, conn.transaction():
            company = await repo.one_for_member(conn, identity.user_id, company_id, lock=True)
            if company is None:
                raise NotFound("Company not found.")
            if company.role not in MANAGER_ROLES:
                raise Forbidden("Only the company's owners and admins can change it.")
            new_slug = slug or company.slug
            if new_slug != company.slug and await repo.slug_taken(conn, new_slug, company.id):
                raise _slug_taken()
            try:
                return await repo.update(conn, company, name or company.name, new_slug)
            except asyncpg.UniqueViolationError:
                raise _slug_taken() from None

    async def delete(self, identity: Identity, company_id: int) -> None:
        _require_member_kind(identity)
        async with self._pool.acquire() as conn, conn.transaction():
            company = await repo.one_for_member(conn, identity.user_id, company_id, lock=True)
            if company is None:
                raise NotFound("Company not found.")
            if company.role != "owner":
                raise Forbidden("Only the company's owner can delete it.")
            await repo.delete(conn, company.id)


def _slug_taken() -> ValidationFailed:
    return ValidationFailed.field("slug", "The slug has already been taken.")
