"""Client-portal contacts of recipients: logins made in auth-service, linked here."""

from __future__ import annotations

import asyncpg

from billing_service.companies.services.scoped import get_scoped
from billing_service.parties import repositories as repo
from billing_service.parties.services.recipients import RecipientService
from billing_service.platform.auth_client import AuthClient, User
from billing_service.platform.permissions import require
from billing_service.platform.repositories.crud import Row
from billing_service.platform.scope import Scope
from shared.errors import ApiError, NotFound
from shared.logging import get_logger

log = get_logger("billing.contacts")


class ContactService:
    """Client-portal users of a recipient: accounts of kind `client` in auth-service that see
    only this recipient's non-draft invoices and quotes."""

    def __init__(self, pool: asyncpg.Pool, recipients: RecipientService, users: AuthClient) -> None:
        self._pool = pool
        self._recipients = recipients
        self._users = users

    async def list(self, scope: Scope, recipient_id: int) -> list[Row]:
        recipient = await self._recipients.get(scope, recipient_id)
        return await repo.contacts(self._pool, recipient["id"])

    async def invite(
        self, scope: Scope, recipient_id: int, email: str, name: str, password: str | None
    ) -> tuple[Row, str | None]:
        """Create the client login in auth-service and link it to the recipient.

        The recipient row is locked first: a concurrent delete waits for the invitation to
        finish (and then removes the contact and its login with the recipient) instead of
        removing the recipient between the login's creation and the link. If the link still
        fails once the login exists, the login is deleted again, so no working login is left
        pointing at nothing.
        """
        user: User | None = None
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                recipient = await get_scoped(conn, repo.RECIPIENTS, scope, recipient_id, lock=True)
                require(scope, recipient["company_id"], "contacts.manage")
                user = await self._users.create_client(email, name, password)
                contact = await repo.insert_contact(
                    conn, user.id, recipient["id"], recipient["company_id"], user.email, user.name
                )
        except BaseException as error:
            if user is not None:
                await self._undo_login(user)
            if isinstance(error, asyncpg.ForeignKeyViolationError):
                raise NotFound() from None  # the recipient went away all the same
            raise
        return contact, user.password

    async def _undo_login(self, user: User) -> None:
        try:
            await self._users.delete(user.id)
        except ApiError:
            # Left behind: a login linked to no recipient (it sees nothing, but it exists).
            log.error("client_login_orphaned", user_id=user.id)
        else:
            log.warning("client_login_undone", user_id=user.id)
