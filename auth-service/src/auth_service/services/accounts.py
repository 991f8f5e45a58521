"""Users: credentials checks, creation, profile changes."""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg

from auth_service.repositories import users as user_repo
from auth_service.repositories.users import User
from auth_service.services.passwords import PasswordHasher
from auth_service.services.throttle import LoginThrottle
from shared.errors import ValidationFailed

BAD_CREDENTIALS = "The provided credentials are incorrect."


class AccountService:
    def __init__(
        self, pool: asyncpg.Pool, passwords: PasswordHasher, throttle: LoginThrottle
    ) -> None:
        self._pool = pool
        self._passwords = passwords
        self._throttle = throttle

    async def authenticate(self, email: str, password: str, client_ip: str) -> User:
        """The user for these credentials, or 422 on `email` (429 after repeated failures)."""
        await self._throttle.attempt(email, client_ip)
        user = await user_repo.by_email(self._pool, email)
        valid = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not valid:
            raise ValidationFailed.field("email", BAD_CREDENTIALS)
        await self._throttle.succeeded(email, client_ip)
        if self._passwords.needs_rehash(user.password_hash):
            # Laravel bcrypt imports and outdated argon2 parameters are upgraded on login.
            new_hash = await self._passwords.hash(password)
            await user_repo.set_password_hash(self._pool, user.id, new_hash)
        return user

    async def create_user(
        self, *, email: str, password: str, name: str, kind: str = "member"
    ) -> User:
        first, _, last = name.partition(" ")
        user = await user_repo.insert(
            self._pool,
            kind=kind,
            name=name,
            email=email,
            password_hash=await self._passwords.hash(password),
            first_name=first or None,
            last_name=last or None,
        )
        if user is None:
            raise ValidationFailed.field("email", "The email has already been taken.")
        return user

    async def register(
        self, *, email: str, name: str, kind: str, password: str | None
    ) -> tuple[User, str | None]:
        """A new user (another service invites them); without a password one is generated
        and returned, this once, for the inviting member to pass on."""
        if password is not None:
            return await self.create_user(
                email=email, password=password, name=name, kind=kind
            ), None
        generated = secrets.token_urlsafe(12)
        user = await self.create_user(email=email, password=generated, name=name, kind=kind)
        return user, generated

    async def ensure_user(self, *, email: str, password: str, name: str) -> tuple[User, bool]:
        """The user with this e-mail, created when missing; True when created now."""
        existing = await user_repo.by_email(self._pool, email)
        if existing is not None:
            return existing, False
        return await self.create_user(email=email, password=password, name=name), True

    async def by_email(self, email: str) -> User | None:
        return await user_repo.by_email(self._pool, email)

    async def by_ids(self, user_ids: list[int]) -> list[User]:
        return await user_repo.by_ids(self._pool, user_ids)

    async def get(self, user_id: int) -> User | None:
        return await user_repo.by_id(self._pool, user_id)

    async def update_profile(self, user: User, changes: dict[str, Any]) -> User:
        if "email" in changes and changes["email"].lower() != user.email.lower():
            taken = await user_repo.by_email(self._pool, changes["email"])
            if taken is not None:
                raise ValidationFailed.field("email", "The email has already been taken.")
        if "name" not in changes and ({"first_name", "last_name"} & changes.keys()):
            first = changes.get("first_name", user.first_name) or ""
            last = changes.get("last_name", user.last_name) or ""
            changes["name"] = f"{first} {last}".strip() or user.name
        if not changes:
            return user
        try:
            return await user_repo.update_profile(self._pool, user.id, changes)
        except asyncpg.UniqueViolationError:
            raise ValidationFailed.field("email", "The email has already been taken.") from None
