"""The caller's tenant scope, loaded once per request.

Members see the companies they belong to; client-portal users see one recipient's non-draft
invoices and quotes and can change nothing. A record outside the scope is 404 (ids leak
nothing); naming a company the caller is not in is 403 COMPANY_ACCESS_DENIED.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing_service.platform.repositories.scope import ClientLink
from shared.errors import CompanyAccessDenied, Forbidden
from shared.identity import Identity


@dataclass(frozen=True)
class Scope:
    identity: Identity
    roles: dict[int, str]  # company id -> the caller's role
    client: ClientLink | None = None

    @property
    def user_id(self) -> int:
        return self.identity.user_id

    @property
    def company_ids(self) -> list[int]:
        return list(self.roles)

    @property
    def is_client(self) -> bool:
        return self.identity.kind == "client"

    def role_in(self, company_id: int) -> str | None:
        """The caller's role in the company: a member's role, `client` for a client-portal
        user of one of its recipients, None for a stranger."""
        if self.client is not None and self.is_client:
            return "client" if self.client.company_id == company_id else None
        return self.roles.get(company_id)

    def require_member(self) -> None:
        """Client-portal users may read their invoices and quotes, nothing else."""
        if self.is_client:
            raise Forbidden("Client-portal users cannot do this.")

    def joined(self, roles: dict[int, str]) -> None:
        """Memberships gained during this request (the member's personal team, made when the
        request first needed a company): later checks of the request see them."""
        self.roles.update(roles)

    def company(self, company_id: int) -> int:
        """A company the request names: the caller must be a member of it."""
        if company_id not in self.roles:
            raise CompanyAccessDenied()
        return company_id
