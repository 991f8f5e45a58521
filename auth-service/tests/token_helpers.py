"""Requests the auth-service token and login tests share."""

from __future__ import annotations

SECRET = {"X-Internal-Secret": "test-internal-secret-0123456789"}


async def post(http, url, body, headers=None):
    async with http.post(url, json=body, headers=headers) as response:
        return response.status, await response.json(), response.headers
