"""GET/PUT /companies/{id}/reminders: a company's reminder steps, read by its members and
changed by its owners and admins."""

from __future__ import annotations

import asyncpg

from billing_service.companies import repositories as company_repo
from billing_service.dunning import repositories as repo
from billing_service.dunning.schemas import ReminderSettingsBody
from billing_service.dunning.services.steps import checked_steps
from billing_service.platform.permissions import require_role
from shared.errors import NotFound
from shared.identity import Identity


class ReminderSettings:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get(self, identity: Identity, company_id: int) -> repo.Settings:
        """Any member's; 404 for a company the caller is no member of."""
        if await company_repo.one_for_member(self.pool, identity.user_id, company_id) is None:
            raise NotFound("Company not found.")
        return await repo.settings(self.pool, company_id)

    async def put(
        self, identity: Identity, company_id: int, body: ReminderSettingsBody
    ) -> repo.Settings:
        """The whole settings replaced (owners and admins); 422 naming the field of a step
        that breaks a rule between steps."""
        steps = [step.stored() for step in checked_steps(body.steps)]
        async with self.pool.acquire() as conn, conn.transaction():
            company = await company_repo.one_for_member(
                conn, identity.user_id, company_id, lock=True
            )
            if company is None:
                raise NotFound("Company not found.")
            require_role(company.role, "company.update")
            return await repo.put_settings(conn, company_id, body.enabled, steps)
