"""Who reaches which invoice: tenant scope, the client portal, teams and members, invoice
members, and Idempotency-Key replays."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from billing_service.platform.keys import POOL

from ..helpers.invoices import body_for


async def test_other_tenants_records_are_invisible(api, make_setup, auth):
    setup, other = await make_setup(), await make_setup()
    _, created = await api("POST", "/api/v1/invoices", setup.headers, body_for(setup))
    invoice_id = created["data"]["id"]
    for method, path in [
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("POST", "/approve"),
        ("POST", "/pay"),
        ("POST", "/send"),
        ("POST", "/cancel"),
        ("POST", "/convert"),
    ]:
        status, _ = await api(
            method,
            f"/api/v1/invoices/{invoice_id}{path}",
            other.headers,
            {"amount": 1, "type": "invoice", "template": "invoice-issued"},
        )
        assert status == 404, (method, path)
    status, _ = await api(
        "POST",
        "/api/v1/invoices",
        other.headers,
        body_for(setup) | {"company_id": setup.company_id},
    )
    assert status == 403
    # Issue 9: naming another tenant's record in a body is 403 COMPANY_ACCESS_DENIED.
    status, body = await api("POST", "/api/v1/invoices", other.headers, body_for(setup))
    assert (status, body["error_code"]) == (403, "COMPANY_ACCESS_DENIED")
    assert "invoicer_id" in body["errors"]
    status, listed = await api("GET", "/api/v1/invoices", other.headers)
    assert all(item["company_id"] == other.company_id for item in listed["data"])


async def test_client_portal_sees_only_its_non_draft_invoices_and_quotes(
    api, make_setup, auth, helpers
):
    setup = await make_setup()
    h = setup.headers
    status, contact = await api(
        "POST",
        f"/api/v1/recipients/{setup.recipient_id}/contacts",
        h,
        {"email": f"portal-{setup.company_id}@client.example", "name": "Jane Client"},
    )
    assert status == 201 and len(contact["data"]["password"]) >= 12
    client = await helpers.client_token(auth, contact["data"]["email"], contact["data"]["password"])
    _, draft = await api("POST", "/api/v1/invoices", h, body_for(setup))
    _, issued = await api("POST", "/api/v1/invoices", h, body_for(setup))
    await api("POST", f"/api/v1/invoices/{issued['data']['id']}/approve", h, {})
    _, quote = await api("POST", "/api/v1/quotes", h, body_for(setup))
    await api("POST", f"/api/v1/invoices/{quote['data']['id']}/send", h, {"template": "quote"})
    # Another recipient of the same company.
    _, stranger = await api(
        "POST",
        "/api/v1/recipients",
        h,
        {"company_entity": "Other Client", "organisation_id": setup.organisation_id},
    )
    _, foreign = await api(
        "POST", "/api/v1/invoices", h, body_for(setup, invoice_recipient_id=stranger["data"]["id"])
    )
    await api("POST", f"/api/v1/invoices/{foreign['data']['id']}/approve", h, {})
    status, listed = await api("GET", "/api/v1/invoices", client)
    assert status == 200
    # Issue 9: /invoices lists a client-portal user's invoices only (quotes under /quotes).
    assert [i["id"] for i in listed["data"]] == [issued["data"]["id"]]
    item = next(i for i in listed["data"] if i["id"] == issued["data"]["id"])
    assert (item["invoicenum"], item["total"], item["date"]) == (
        "INV-0002",
        "1100.00",
        "2025-06-01",
    )
    status, quotes = await api("GET", "/api/v1/quotes", client)
    assert [q["id"] for q in quotes["data"]] == [quote["data"]["id"]]
    status, one = await api("GET", f"/api/v1/invoices/{issued['data']['id']}", client)
    assert status == 200 and "history" not in one["data"]  # internal notes stay internal
    for invoice_id in (draft["data"]["id"], foreign["data"]["id"]):
        assert (await api("GET", f"/api/v1/invoices/{invoice_id}", client))[0] == 404
    for method, path, payload in [
        ("POST", "/api/v1/invoices", body_for(setup)),
        ("POST", f"/api/v1/invoices/{issued['data']['id']}/pay", {"amount": 1}),
        ("GET", "/api/v1/recipients", None),
        ("GET", "/api/v1/companies", None),
    ]:
        status, _ = await api(method, path, client, payload)
        assert status == 403, (method, path)  # a member's route: refused, not just not found


async def test_teams_and_members(api, auth, billing):
    owner_user, teammate = await auth.user(), await auth.user()
    owner = {"Authorization": f"Bearer {await auth.identity_jwt(owner_user.token)}"}
    mate = {"Authorization": f"Bearer {await auth.identity_jwt(teammate.token)}"}
    _, first = await api("POST", "/api/v1/companies", owner, {"name": "My Company"})
    _, second = await api("POST", "/api/v1/companies", owner, {"name": "Another Team"})
    status, teams = await api("GET", "/api/v1/teams", owner)
    assert [(t["name"], t["is_current"], t["is_owner"]) for t in teams["data"]] == [
        ("My Company", True, True),
        ("Another Team", False, True),
    ]
    status, switched = await api(
        "POST", "/api/v1/teams/switch", owner, {"team_id": second["data"]["id"]}
    )
    assert switched["message"] == "Switched to Another Team"
    assert switched["data"] == {"id": second["data"]["id"], "name": "Another Team"}
    status, current = await api("GET", "/api/v1/teams/current", owner)
    assert current["data"]["id"] == second["data"]["id"]
    status, denied = await api(
        "POST", "/api/v1/teams/switch", mate, {"team_id": second["data"]["id"]}
    )
    assert (status, denied["error_code"]) == (403, "COMPANY_ACCESS_DENIED")
    company_id = first["data"]["id"]
    status, added = await api(
        "POST",
        f"/api/v1/companies/{company_id}/members",
        owner,
        {"email": teammate.email, "role": "admin"},
    )
    assert (
        status == 201
        and added["data"]["role"] == "admin"
        and added["data"]["email"] == teammate.email
    )
    status, again = await api(
        "POST", f"/api/v1/companies/{company_id}/members", owner, {"email": teammate.email}
    )
    assert status == 422
    status, nobody = await api(
        "POST",
        f"/api/v1/companies/{company_id}/members",
        owner,
        {"email": "nobody@nowhere.example"},
    )
    assert status == 422 and "email" in nobody["errors"]
    status, members = await api("GET", f"/api/v1/companies/{company_id}/members", mate)
    assert {m["user_id"] for m in members["data"]} == {owner_user.id, teammate.id}
    status, body = await api(
        "PUT", f"/api/v1/companies/{company_id}/members/{owner_user.id}", mate, {"role": "member"}
    )
    assert status == 403  # an admin cannot demote an owner
    status, body = await api(
        "DELETE", f"/api/v1/companies/{company_id}/members/{owner_user.id}", owner
    )
    assert status == 409  # the last owner stays
    assert (await api("DELETE", f"/api/v1/companies/{company_id}/members/{teammate.id}", owner))[
        0
    ] == 204
    assert (await api("GET", f"/api/v1/companies/{company_id}", mate))[0] == 404


async def test_idempotency_key_replays_and_guards(billing, make_setup):
    setup = await make_setup()
    headers = setup.headers | {"Idempotency-Key": "create-42"}
    body = body_for(setup)
    first = await billing.post("/api/v1/invoices", json=body, headers=headers)
    second = await billing.post("/api/v1/invoices", json=body, headers=headers)
    assert first.status == second.status == 201
    assert await first.json() == await second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    count = await billing.app[POOL].fetchval(
        "SELECT count(*) FROM invoices WHERE company_id = $1", setup.company_id
    )
    assert count == 1
    other = await billing.post(
        "/api/v1/invoices", json=body | {"notes": "changed"}, headers=headers
    )
    assert other.status == 422
    racing = await asyncio.gather(
        *(
            billing.post(
                "/api/v1/invoices", json=body, headers=setup.headers | {"Idempotency-Key": "race"}
            )
            for _ in range(5)
        )
    )
    assert [r.status for r in racing].count(201) >= 1
    assert set(r.status for r in racing) <= {201, 409}
    count = await billing.app[POOL].fetchval(
        "SELECT count(*) FROM invoices WHERE company_id = $1", setup.company_id
    )
    assert count == 2


async def test_invoice_members(api, make_setup, auth):
    setup = await make_setup()
    _, created = await api("POST", "/api/v1/invoices", setup.headers, body_for(setup))
    invoice_id = created["data"]["id"]
    stranger = await auth.user()
    status, body = await api(
        "POST",
        f"/api/v1/invoices/{invoice_id}/members",
        setup.headers,
        {"members": [{"member_id": stranger.id, "view_invoice": True, "receive_invoice": True}]},
    )
    assert status == 422 and "members.0.member_id" in body["errors"]
    me = created["data"]["history"][0]["user_id"]
    status, body = await api(
        "POST",
        f"/api/v1/invoices/{invoice_id}/members",
        setup.headers,
        {
            "members": [
                {
                    "member_id": me,
                    "view_invoice": True,
                    "receive_invoice": False,
                    "action_invoice": True,
                }
            ]
        },
    )
    assert status == 200 and body["data"][0]["action_invoice"] is True
    status, listed = await api("GET", f"/api/v1/invoices/{invoice_id}/members", setup.headers)
    assert [m["member_id"] for m in listed["data"]] == [me]


async def test_a_create_cut_off_by_the_database_is_a_503_and_its_key_runs_again(
    billing, make_setup
):
    """The create waits for the company's numbers (held here) when its database connection is
    terminated: a 503 with Retry-After, nothing written, and the same Idempotency-Key then
    creates the invoice (the key was not left in progress)."""
    setup = await make_setup()
    headers = setup.headers | {"Idempotency-Key": "cut-off-1"}
    pool = billing.app[POOL]
    async with pool.acquire() as holder, holder.transaction():
        await holder.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('invoice-numbers:' || $1, 0))",
            str(setup.company_id),
        )
        pending = asyncio.create_task(
            billing.post("/api/v1/invoices", json=body_for(setup), headers=headers)
        )
        for _ in range(200):  # until the create waits for the lock (at most 10 s)
            cut = await pool.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query LIKE '%invoice-numbers%'"
            )
            if cut:
                break
            await asyncio.sleep(0.05)
        assert cut == 1
        first = await pending
    assert first.status == 503, await first.text()
    assert first.headers["Retry-After"] == "2"
    assert (await first.json())["error_code"] == "SERVICE_UNAVAILABLE"
    count = "SELECT count(*) FROM invoices WHERE company_id = $1"
    assert await pool.fetchval(count, setup.company_id) == 0
    again = await billing.post("/api/v1/invoices", json=body_for(setup), headers=headers)
    assert again.status == 201 and "Idempotent-Replayed" not in again.headers
    assert await pool.fetchval(count, setup.company_id) == 1


async def test_a_key_left_in_progress_is_409_then_taken_over_once_abandoned(billing, make_setup):
    """A first request whose answer could not be stored (the database gone for longer than its
    retries) leaves its key in progress: a retry is 409 with Retry-After, and runs for real once
    the key is older than any request could run."""
    setup = await make_setup()
    headers = setup.headers | {"Idempotency-Key": "left-behind"}
    first = await billing.post("/api/v1/invoices", json=body_for(setup), headers=headers)
    assert first.status == 201
    pool = billing.app[POOL]
    unanswered = (
        "UPDATE idempotency_keys SET status = NULL, body = NULL, "
        "created_at = now() - $1::interval WHERE key = 'left-behind'"
    )
    await pool.execute(unanswered, timedelta(seconds=5))
    waiting = await billing.post("/api/v1/invoices", json=body_for(setup), headers=headers)
    assert waiting.status == 409 and waiting.headers["Retry-After"] == "2"
    await pool.execute(unanswered, timedelta(minutes=3))
    taken_over = await billing.post("/api/v1/invoices", json=body_for(setup), headers=headers)
    assert taken_over.status == 201 and "Idempotent-Replayed" not in taken_over.headers
    replayed = await billing.post("/api/v1/invoices", json=body_for(setup), headers=headers)
    assert replayed.headers["Idempotent-Replayed"] == "true"
