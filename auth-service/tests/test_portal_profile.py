"""INNOVATECH's profile example prints every field as a string: for its users (client-portal
users) an empty field is "", never null. Members keep null."""

from __future__ import annotations

import aiohttp

EMPTY = ("companyname", "address1", "address2", "city", "state", "postcode", "country")


async def _profile(auth, kind: str) -> dict:
    user = await auth.user(["profile:read"], kind=kind)
    headers = {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{auth.url}/api/v1/profile", headers=headers) as response,
    ):
        assert response.status == 200
        return (await response.json())["data"]


async def test_a_client_portal_users_empty_profile_fields_are_empty_strings_not_members(auth):
    profile = await _profile(auth, "client")
    for name in (*EMPTY, "company_name", "phonenumber", "phone"):
        assert profile[name] == "", name
    assert (profile["firstname"], profile["lastname"]) == ("Test", "User")
    assert isinstance(profile["id"], int) and profile["email"].endswith("@example.com")
    # Members keep null.
    profile = await _profile(auth, "member")
    assert all(profile[name] is None for name in ("address1", "city", "phonenumber"))
