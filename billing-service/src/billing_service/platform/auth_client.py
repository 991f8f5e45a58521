"""auth-service's internal user API, as billing uses it (members by e-mail, client invites)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from shared.errors import ApiError, ServiceUnavailable, ValidationFailed

IDS_PER_CALL = 500  # auth-service's limit for ?ids=


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    kind: str
    password: str | None = None  # only when auth-service generated one
    first_name: str | None = None


def _user(data: dict[str, Any]) -> User:
    return User(
        data["id"],
        data["email"],
        data["name"],
        data["kind"],
        data.get("password"),
        data.get("first_name"),
    )


class AuthClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, secret: str) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = {"X-Internal-Secret": secret}

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        try:
            async with self._session.request(
                method, self._base + path, headers=self._headers, **kwargs
            ) as response:
                return response.status, await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise ServiceUnavailable("The user directory is unavailable.") from None

    async def find_by_email(self, email: str) -> User | None:
        status, body = await self._call("GET", "/internal/users", params={"email": email})
        if status == 404:
            return None
        self._expect(status, body, 200)
        return _user(body["data"][0])

    async def find_by_ids(self, user_ids: list[int]) -> dict[int, User]:
        """The users that exist among these ids, asked for in batches auth-service accepts."""
        found: dict[int, User] = {}
        for start in range(0, len(user_ids), IDS_PER_CALL):
            batch = ",".join(str(user_id) for user_id in user_ids[start : start + IDS_PER_CALL])
            status, body = await self._call("GET", "/internal/users", params={"ids": batch})
            self._expect(status, body, 200)
            found |= {entry["id"]: _user(entry) for entry in body["data"]}
        return found

    async def create_client(self, email: str, name: str, password: str | None) -> User:
        payload = {"email": email, "name": name, "password": password, "kind": "client"}
        status, body = await self._call(
            "POST", "/internal/users", json={k: v for k, v in payload.items() if v is not None}
        )
        if status == 422:
            raise ValidationFailed(body.get("errors", {"email": [body.get("message", "")]}))
        self._expect(status, body, 201)
        return _user(body["data"])

    async def delete(self, user_id: int) -> None:
        """Delete a user (and revoke their tokens); gone already counts as done."""
        status, body = await self._call("DELETE", f"/internal/users/{user_id}")
        if status != 404:
            self._expect(status, body, 204)

    async def delete_all(self, user_ids: list[int]) -> None:
        for user_id in user_ids:
            await self.delete(user_id)

    @staticmethod
    def _expect(status: int, body: dict[str, Any], wanted: int) -> None:
        if status != wanted:
            raise ApiError(body.get("message", "The user directory failed."))
