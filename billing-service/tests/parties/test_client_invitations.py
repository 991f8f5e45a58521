"""Client invitations never leave a login behind: a recipient deleted mid-invitation, a failure
after the login was made, deleting a recipient or a company."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from billing_service.platform.keys import POOL

INTERNAL = {"X-Internal-Secret": "test-internal-secret-0123456789"}


# --- inviting a contact while its recipient goes away -----------------------------------


async def _login_exists(auth: Any, email: str) -> bool:
    async with aiohttp.ClientSession() as http:
        url = f"{auth.url}/internal/users"
        async with http.get(url, params={"email": email}, headers=INTERNAL) as response:
            return response.status == 200


async def test_a_recipient_deleted_during_an_invitation_leaves_no_login(
    billing, api, auth, owner, database_urls
):
    """The delete holds the recipient's row (as a running DELETE does) while the invitation
    comes in; it then commits. The invitation answers 404 and no login is left behind."""
    import asyncpg

    email = f"racing-{owner.company_id}@client.example"
    path = f"/api/v1/recipients/{owner.recipient_id}/contacts"
    deleter = await asyncpg.connect(database_urls["billing"])
    try:
        transaction = deleter.transaction()
        await transaction.start()
        await deleter.execute(
            "SELECT 1 FROM recipients WHERE id = $1 FOR UPDATE", owner.recipient_id
        )
        invitation = asyncio.ensure_future(
            api(
                "POST",
                path,
                owner.headers,
                {"email": email, "name": "Racing", "password": "long-enough"},
            )
        )
        await _until_a_query_waits_for_a_lock(deleter, invitation)
        await deleter.execute("DELETE FROM recipients WHERE id = $1", owner.recipient_id)
        await transaction.commit()
        status, answer = await invitation
    finally:
        await deleter.close()
    assert status == 404, answer
    assert not await _login_exists(auth, email)


async def _until_a_query_waits_for_a_lock(conn: Any, invitation: asyncio.Future[Any]) -> None:
    """Poll (no fixed sleep) until another session waits for the row lock this one holds."""
    for _ in range(500):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()"
        )
        if waiting:
            return
        assert not invitation.done(), "the invitation did not wait for the recipient's lock"
        await asyncio.sleep(0.01)
    raise AssertionError("no session waited for the lock")


async def test_a_failure_after_the_login_was_created_deletes_the_login(api, auth, owner, billing):
    """The recipient disappears just before the contact row is written (a trigger deletes it
    in the same transaction): the billing side fails after auth-service created the login."""
    email = f"vanishing-{owner.company_id}@client.example"
    pool = billing.app[POOL]
    await pool.execute(
        f"""
        CREATE FUNCTION drop_recipient_first() RETURNS trigger AS $$
        BEGIN
            IF NEW.email = '{email}' THEN
                DELETE FROM recipients WHERE id = NEW.recipient_id;
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER drop_recipient_first BEFORE INSERT ON recipient_contacts
            FOR EACH ROW EXECUTE FUNCTION drop_recipient_first();
        """
    )
    try:
        status, answer = await api(
            "POST",
            f"/api/v1/recipients/{owner.recipient_id}/contacts",
            owner.headers,
            {"email": email, "name": "Vanishing"},
        )
    finally:
        await pool.execute(
            "DROP TRIGGER drop_recipient_first ON recipient_contacts;"
            "DROP FUNCTION drop_recipient_first();"
        )
    assert (status, answer["error_code"]) == (404, "NOT_FOUND")
    assert not await _login_exists(auth, email)
    # The recipient is there again (the whole transaction was undone), and inviting works.
    status, _ = await api(
        "POST",
        f"/api/v1/recipients/{owner.recipient_id}/contacts",
        owner.headers,
        {"email": email, "name": "Vanishing"},
    )
    assert status == 201 and await _login_exists(auth, email)


async def _invite(api: Any, setup: Any, recipient_id: int, email: str) -> None:
    path = f"/api/v1/recipients/{recipient_id}/contacts"
    status, answer = await api("POST", path, setup.headers, {"email": email, "name": "Portal"})
    assert status == 201, answer


async def test_deleting_a_recipient_deletes_its_client_logins(api, auth, owner):
    _, other = await api(
        "POST",
        "/api/v1/recipients",
        owner.headers,
        {"company_entity": "Leaving Corp", "organisation_id": owner.organisation_id},
    )
    recipient_id = other["data"]["id"]
    emails = [f"leaving-{n}-{owner.company_id}@client.example" for n in (1, 2)]
    for email in emails:
        await _invite(api, owner, recipient_id, email)
    kept = f"staying-{owner.company_id}@client.example"
    await _invite(api, owner, owner.recipient_id, kept)
    assert (await api("DELETE", f"/api/v1/recipients/{recipient_id}", owner.headers))[0] == 204
    assert [await _login_exists(auth, email) for email in emails] == [False, False]
    assert await _login_exists(auth, kept)


async def test_deleting_a_company_deletes_its_client_logins(api, auth, billing, helpers):
    user = await auth.user()
    headers = {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    setup = await helpers.setup(billing, headers)
    email = f"closing-{setup.company_id}@client.example"
    await _invite(api, setup, setup.recipient_id, email)
    assert (await api("DELETE", f"/api/v1/companies/{setup.company_id}", headers))[0] == 204
    assert not await _login_exists(auth, email)
