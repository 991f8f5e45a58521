"""Password hashing: argon2id for new hashes; Laravel bcrypt ($2y$) verified and upgraded."""

from __future__ import annotations

import asyncio
from functools import partial

import argon2
import bcrypt

from auth_service.settings import Settings

_BCRYPT_PREFIXES = ("$2y$", "$2b$", "$2a$")


class PasswordHasher:
    """Hashing runs in a worker thread: argon2id takes tens of milliseconds of CPU."""

    def __init__(self, hasher: argon2.PasswordHasher | None = None) -> None:
        self._argon = hasher or argon2.PasswordHasher()
        # Verified against when the e-mail is unknown, so both paths take the same time.
        self._dummy_hash = self._argon.hash("timing-equaliser")

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordHasher:
        """The hasher with the configured argon2id cost (cheap only in development and test)."""
        return cls(
            argon2.PasswordHasher(
                time_cost=settings.password_hash_time_cost,
                memory_cost=settings.password_hash_memory_cost,
                parallelism=settings.password_hash_parallelism,
            )
        )

    def hash_sync(self, password: str) -> str:
        return self._argon.hash(password)

    def _verify_sync(self, stored: str | None, password: str) -> bool:
        if stored is None:
            stored = self._dummy_hash
            password = password + "\x00never"
        if stored.startswith(_BCRYPT_PREFIXES):
            # PHP writes $2y$; the algorithm is the same as $2b$.
            candidate = "$2b$" + stored[4:]
            return bcrypt.checkpw(password.encode(), candidate.encode())
        try:
            return self._argon.verify(stored, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return stored.startswith(_BCRYPT_PREFIXES) or self._argon.check_needs_rehash(stored)

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(None, self.hash_sync, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            None, partial(self._verify_sync, stored, password)
        )
