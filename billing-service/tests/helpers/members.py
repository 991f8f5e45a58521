"""A colleague joining a company, as the tests that check roles and abilities need one."""

from __future__ import annotations

from typing import Any


async def join(
    api: Any, setup: Any, auth: Any, role: str = "member", abilities: list[str] | None = None
) -> dict[str, str]:
    """A new user (with these token abilities) made `role` of the setup's company: their
    headers, as the gateway sends them on."""
    user = await auth.user(abilities)
    status, body = await api(
        "POST",
        f"/api/v1/companies/{setup.company_id}/members",
        setup.headers,
        {"email": user.email, "role": role},
    )
    assert status == 201, body
    return {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
