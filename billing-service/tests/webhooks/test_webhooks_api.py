"""The webhooks and events API against a real billing-service and PostgreSQL: endpoints and
their secret (shown once, stored sealed), validation, roles and tenancy, the event log's
pages and filters, test events, the delivery log and redelivery."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from billing_service.events.keys import EVENTS
from billing_service.platform.keys import POOL
from billing_service.webhooks import routes as webhook_routes
from shared.contract import OPERATIONS
from shared.openapi import build_document, openapi_path

from ..conftest import call, setup_billing

V1 = "/api/v1"
HOOK = {"url": "https://hooks.example.com/in", "events": ["invoice.paid", "quote.*"]}
OURS = webhook_routes.operations()


@dataclass
class Team:
    owner: dict[str, str]
    member: dict[str, str]
    company_id: int
    user_email: str


@pytest.fixture
async def team(api: Any, auth: Any, owner: Any) -> Team:
    member = await auth.user()
    status, _ = await api(
        "POST",
        f"{V1}/companies/{owner.company_id}/members",
        owner.headers,
        {"email": member.email, "role": "member"},
    )
    assert status == 201
    member_headers = {"Authorization": f"Bearer {await auth.identity_jwt(member.token)}"}
    return Team(owner.headers, member_headers, owner.company_id, member.email)


async def _webhook(api: Any, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    status, answer = await api("POST", f"{V1}/webhooks", headers, HOOK | fields)
    assert status == 201, answer
    return dict(answer["data"])


async def _record(billing: Any, company_id: int, event_type: str, **data: Any) -> str:
    async with billing.app[POOL].acquire() as conn, conn.transaction():
        return str(await billing.app[EVENTS].record(conn, company_id, event_type, data))


# --- endpoints and their secret -----------------------------------------------------------


async def test_crud_shows_the_secret_once_and_stores_it_sealed(api, billing, team, answer_schemas):
    document = build_document(billing.app[OPERATIONS], title="billing-service")
    schemas = answer_schemas(document)

    async def call(method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, answer = await api(method, path, team.owner, body)
        assert status == expect, (method, path, status, answer)
        route = next(
            openapi_path(o.path)
            for o in OURS
            if o.method == method
            and re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", o.path), path.split("?")[0])
        )
        schemas.check(method, route, status, answer)
        return answer

    created = (await call("POST", f"{V1}/webhooks", HOOK | {"description": "ERP"}, 201))["data"]
    secret = created["secret"]
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)
    assert created["enabled"] is True and created["company_id"] == team.company_id
    assert created["events"] == ["invoice.paid", "quote.*"]
    one = f"{V1}/webhooks/{created['id']}"
    shown = [
        (await call("GET", one))["data"],
        (await call("GET", f"{V1}/webhooks"))["data"][0],
        (await call("PUT", one, {"description": "CRM", "events": ["*"]}))["data"],
        (await call("PATCH", one, {"enabled": False}))["data"],
    ]
    assert all("secret" not in answer for answer in shown)
    assert shown[2]["events"] == ["*"] and shown[3]["enabled"] is False

    stored = await billing.app[POOL].fetchrow(
        "SELECT secret::text AS s, row_to_json(w)::text AS r FROM webhook_endpoints w "
        "WHERE id = $1",
        created["id"],
    )
    assert secret not in stored["r"] and secret.removeprefix("whsec_") not in stored["r"]
    assert stored["s"].startswith("v1:")

    rotated = (await call("POST", f"{one}/rotate-secret"))["data"]
    assert rotated["secret"] != secret and rotated["secret"].startswith("whsec_")
    row = await billing.app[POOL].fetchrow(
        "SELECT previous_secret, previous_secret_expires_at FROM webhook_endpoints WHERE id = $1",
        created["id"],
    )
    assert row["previous_secret"] == stored["s"]
    hours = (row["previous_secret_expires_at"] - datetime.now(UTC)).total_seconds() / 3600
    assert 23.9 < hours <= 24

    spare = (await call("POST", f"{V1}/webhooks", HOOK, 201))["data"]
    await call("DELETE", f"{V1}/webhooks/{spare['id']}", expect=204)
    await call("GET", f"{V1}/webhooks/{spare['id']}", expect=404)


async def test_re_enabling_clears_the_failure_record(api, billing, team):
    hook = await _webhook(api, team.owner)
    await billing.app[POOL].execute(
        "UPDATE webhook_endpoints SET enabled = false, failing_since = now(), "
        "disabled_reason = 'Failing for 5 days.' WHERE id = $1",
        hook["id"],
    )
    status, answer = await api(
        "PATCH", f"{V1}/webhooks/{hook['id']}", team.owner, {"enabled": True}
    )
    assert status == 200
    assert answer["data"]["failing_since"] is None and answer["data"]["disabled_reason"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "ftp://hooks.example.com/"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http://127.0.0.1:8080/hook"}, "url"),
        ({"url": "https://127.0.0.1/hook"}, "url"),
        ({"url": "https://169.254.169.254/latest/meta-data/"}, "url"),
        ({"url": "https://[::ffff:10.0.0.1]/"}, "url"),
        ({"url": "https://2130706433/"}, "url"),
        ({"url": "https://0x7f.1/"}, "url"),
        ({"url": "https://user:pass@hooks.example.com/"}, "url"),
        ({"url": "https://hooks.example.com/" + "a" * 2048}, "url"),
        ({"url": "https://hooks.example.com/a b"}, "url"),
        ({"url": None}, "url"),
        ({"events": []}, "events"),
        ({"events": ["invoice.paid", "invoice.exploded"]}, "events.1"),
        ({"events": ["*"] * 101}, "events"),
        ({"description": "x" * 501}, "description"),
        ({"enabled": "maybe"}, "enabled"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(api, billing, owner, fields, field):
    status, answer = await api("POST", f"{V1}/webhooks", owner.headers, HOOK | fields)
    assert status == 422, answer
    assert field in answer["errors"], answer
    count = await billing.app[POOL].fetchval(
        "SELECT count(*) FROM webhook_endpoints WHERE company_id = $1", owner.company_id
    )
    assert count == 0


async def test_plain_http_only_where_the_settings_allow_it(start_billing, auth, helpers):
    strict = await start_billing(webhook_allow_http=False)
    setup = await helpers.setup(strict, await auth.bearer())
    body = HOOK | {"url": "http://hooks.example.com/in"}
    status, answer = await helpers.call(strict, "POST", f"{V1}/webhooks", setup.headers, body)
    assert status == 422 and "https" in answer["errors"]["url"][0]
    created = await helpers.call(strict, "POST", f"{V1}/webhooks", setup.headers, HOOK)
    path = f"{V1}/webhooks/{created[1]['data']['id']}"
    body = {"url": "http://hooks.example.com/in"}
    status, answer = await helpers.call(strict, "PATCH", path, setup.headers, body)
    assert status == 422 and "url" in answer["errors"]


async def test_an_allow_listed_network_may_be_named(start_billing, auth, helpers):
    allowing = await start_billing(webhook_allowed_networks="127.0.0.0/8")
    setup = await helpers.setup(allowing, await auth.bearer())
    body = HOOK | {"url": "http://127.0.0.1:9/in"}
    status, answer = await helpers.call(allowing, "POST", f"{V1}/webhooks", setup.headers, body)
    assert status == 201, answer


# --- roles, abilities, tenancy ------------------------------------------------------------


def _concrete(path: str, ids: dict[str, Any]) -> str:
    return path.format(**ids)


async def _ids(api: Any, billing: Any, team: Team) -> dict[str, Any]:
    hook = await _webhook(api, team.owner)
    test = await api("POST", f"{V1}/webhooks/{hook['id']}/test", team.owner)
    assert test[0] == 202
    return {"id": hook["id"], "delivery_id": test[1]["data"]["delivery_id"]}


async def test_a_member_is_refused_every_route(api, billing, team):
    ids = await _ids(api, billing, team)
    event_id = await _record(billing, team.company_id, "invoice.paid", id=1)
    for operation in OURS:
        values = ids | ({"id": event_id} if "/events/" in operation.path else {})
        path = _concrete(operation.path, values)
        status, answer = await api(operation.method, path, team.member, HOOK)
        assert status == 403, (operation.operation_id, status, answer)
        assert "member" in answer["message"], answer
    status, _ = await api("GET", f"{V1}/webhooks/{ids['id']}", team.owner)
    assert status == 200  # nothing the member tried changed it


async def test_a_client_portal_user_is_refused(api, auth, helpers, owner):
    status, contact = await api(
        "POST",
        f"{V1}/recipients/{owner.recipient_id}/contacts",
        owner.headers,
        {"email": f"portal-{owner.company_id}@client.example", "name": "Portal"},
    )
    assert status == 201
    c = contact["data"]
    portal = await helpers.client_token(auth, c["email"], c["password"], ["*"])
    for method, path in (("GET", "/webhooks"), ("POST", "/webhooks"), ("GET", "/events")):
        status, _ = await api(method, V1 + path, portal, HOOK)
        assert status == 403, (method, path)


@pytest.mark.parametrize("operation", OURS, ids=lambda o: o.operation_id)
async def test_a_token_without_the_ability_is_refused(api, auth, operation):
    declared = set(operation.access.abilities())
    resource = next(iter(declared)).split(":")[0]
    others = {"webhooks": ["events:*", "invoices:*"], "events": ["webhooks:*", "invoices:*"]}
    headers = await auth.bearer(others[resource])
    path = re.sub(r"\{\w+\}", "1", operation.path).replace("/events/1", "/events/evt_" + "0" * 24)
    status, answer = await api(operation.method, path, headers, HOOK)
    assert status == 403, (operation.operation_id, status)
    assert any(ability in answer["message"] for ability in declared), answer


async def test_another_tenants_ids_are_not_found(api, auth, billing, team, helpers):
    ids = await _ids(api, billing, team)
    event_id = await _record(billing, team.company_id, "invoice.paid", id=1)
    stranger = await helpers.setup(billing, await auth.bearer())
    for operation in OURS:
        if "{" not in operation.path:
            continue
        values = ids | ({"id": event_id} if "/events/" in operation.path else {})
        status, _ = await api(
            operation.method, _concrete(operation.path, values), stranger.headers, HOOK
        )
        assert status == 404, operation.operation_id
    # Their own webhook, but a delivery of another endpoint: 404 too.
    theirs = await _webhook(api, stranger.headers)
    status, _ = await api(
        "POST",
        f"{V1}/webhooks/{theirs['id']}/deliveries/{ids['delivery_id']}/redeliver",
        stranger.headers,
    )
    assert status == 404
    for method, path, body in (
        ("POST", "/webhooks", HOOK | {"company_id": team.company_id}),
        ("GET", f"/webhooks?company_id={team.company_id}", None),
        ("GET", f"/events?company_id={team.company_id}", None),
    ):
        status, answer = await api(method, V1 + path, stranger.headers, body)
        assert status == 403 and answer["error_code"] == "COMPANY_ACCESS_DENIED", (path, answer)
    status, answer = await api("GET", f"{V1}/events?since={event_id}", stranger.headers)
    assert status == 422 and "since" in answer["errors"]


# --- the event log ------------------------------------------------------------------------


async def test_events_newest_first_with_cursor_type_family_and_since(api, billing, owner):
    company = owner.company_id
    recorded = [
        await _record(billing, company, kind, n=n)
        for n, kind in enumerate(
            ["invoice.created", "invoice.paid", "quote.sent", "invoice.paid", "recipient.created"]
        )
    ]
    h = owner.headers
    status, page = await api("GET", f"{V1}/events?per_page=2", h)
    assert status == 200
    assert [e["id"] for e in page["data"]] == recorded[::-1][:2]
    assert page["data"][0]["type"] == "recipient.created" and page["data"][0]["data"] == {"n": 4}
    assert page["data"][0]["company_id"] == company and page["data"][0]["timestamp"].endswith("Z")
    cursor = page["meta"]["next_cursor"]
    status, second = await api("GET", f"{V1}/events?per_page=2&cursor={cursor}", h)
    assert [e["id"] for e in second["data"]] == recorded[::-1][2:4]

    status, paid = await api("GET", f"{V1}/events?type=invoice.paid", h)
    assert [e["id"] for e in paid["data"]] == [recorded[3], recorded[1]]
    status, family = await api("GET", f"{V1}/events?type=invoice.*", h)
    assert [e["id"] for e in family["data"]] == [recorded[3], recorded[1], recorded[0]]
    status, since = await api("GET", f"{V1}/events?since={recorded[2]}", h)
    assert [e["id"] for e in since["data"]] == [recorded[4], recorded[3]]

    status, one = await api("GET", f"{V1}/events/{recorded[1]}", h)
    assert status == 200 and one["data"]["type"] == "invoice.paid"
    for bad in ("type=invoice.exploded", "since=evt_" + "f" * 24, "since=nope", "type=*"):
        status, answer = await api("GET", f"{V1}/events?{bad}", h)
        assert status == 422, (bad, answer)
    status, _ = await api("GET", f"{V1}/events?cursor=bm90LWEtY3Vyc29y", h)
    assert status == 400
    status, _ = await api("GET", f"{V1}/events/evt_{'0' * 24}", h)
    assert status == 404


# --- test events, the delivery log, redelivery --------------------------------------------


async def test_a_test_event_goes_to_that_endpoint_only_due_now(api, billing, owner):
    target = await _webhook(api, owner.headers, events=["*"])
    other = await _webhook(api, owner.headers, events=["*"])
    status, answer = await api("POST", f"{V1}/webhooks/{target['id']}/test", owner.headers)
    assert status == 202, answer
    rows = await billing.app[POOL].fetch(
        "SELECT d.id, d.endpoint_id, d.status, d.next_attempt_at, e.type, e.data::text AS data "
        "FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq WHERE e.id = $1",
        answer["data"]["event_id"],
    )
    assert len(rows) == 1
    assert rows[0]["endpoint_id"] == target["id"] and rows[0]["status"] == "pending"
    assert rows[0]["id"] == answer["data"]["delivery_id"] and rows[0]["type"] == "webhook.test"
    assert abs((rows[0]["next_attempt_at"] - datetime.now(UTC)).total_seconds()) < 60
    assert f'"webhook_id": {target["id"]}' in rows[0]["data"]
    assert other["id"] != target["id"]

    await api("PATCH", f"{V1}/webhooks/{target['id']}", owner.headers, {"enabled": False})
    status, _ = await api("POST", f"{V1}/webhooks/{target['id']}/test", owner.headers)
    assert status == 409


async def _attempted(billing: Any, delivery_id: int, endpoint_id: int, code: int | None) -> None:
    """What the delivery loop leaves after a last attempt (that loop is not under test)."""
    outcome = "succeeded" if code and 200 <= code < 300 else "failed"
    pool = billing.app[POOL]
    await pool.execute(
        "UPDATE webhook_deliveries SET status = $2, attempts = 1, completed_at = now() "
        "WHERE id = $1",
        delivery_id,
        outcome,
    )
    await pool.execute(
        "INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, status_code, "
        "duration_ms, error, created_at) VALUES ($1, $2, 1, $3, 12, $4, now())",
        delivery_id,
        endpoint_id,
        code,
        None if outcome == "succeeded" else "HTTP 500",
    )


async def test_the_delivery_log_and_redelivery(api, billing, owner):
    hook = await _webhook(api, owner.headers)
    one = f"{V1}/webhooks/{hook['id']}"
    deliveries = []
    for _ in range(3):
        status, answer = await api("POST", f"{one}/test", owner.headers)
        deliveries.append(answer["data"])
    for delivery, code in zip(deliveries, (500, 204, None), strict=True):
        await _attempted(billing, delivery["delivery_id"], hook["id"], code)

    status, log = await api("GET", f"{one}/deliveries?per_page=2", owner.headers)
    assert status == 200
    assert [row["event_id"] for row in log["data"]] == [
        deliveries[2]["event_id"],
        deliveries[1]["event_id"],
    ]
    first = log["data"][0]
    assert first["event_type"] == "webhook.test" and first["status_code"] is None
    assert first["attempt"] == 1 and first["duration_ms"] == 12 and first["redelivery"] is False
    status, rest = await api(
        "GET", f"{one}/deliveries?per_page=2&cursor={log['meta']['next_cursor']}", owner.headers
    )
    assert [row["event_id"] for row in rest["data"]] == [deliveries[0]["event_id"]]
    status, failed = await api("GET", f"{one}/deliveries?status=failed", owner.headers)
    assert {row["delivery_id"] for row in failed["data"]} == {
        deliveries[0]["delivery_id"],
        deliveries[2]["delivery_id"],
    }
    status, succeeded = await api("GET", f"{one}/deliveries?status=succeeded", owner.headers)
    assert [row["status_code"] for row in succeeded["data"]] == [204]

    for delivery in deliveries[:2]:  # a failed one and a succeeded one
        path = f"{one}/deliveries/{delivery['delivery_id']}/redeliver"
        status, answer = await api("POST", path, owner.headers)
        assert status == 202, answer
        row = await billing.app[POOL].fetchrow(
            "SELECT status, attempts, redelivery, completed_at, next_attempt_at "
            "FROM webhook_deliveries WHERE id = $1",
            delivery["delivery_id"],
        )
        assert row["status"] == "pending" and row["attempts"] == 0 and row["redelivery"]
        assert row["completed_at"] is None
        assert abs((row["next_attempt_at"] - datetime.now(UTC)).total_seconds()) < 60
        status, _ = await api("POST", path, owner.headers)
        assert status == 409  # pending already: no second copy

    await api("PATCH", one, owner.headers, {"enabled": False})
    path = f"{one}/deliveries/{deliveries[2]['delivery_id']}/redeliver"
    status, _ = await api("POST", path, owner.headers)
    assert status == 409
    status, _ = await api("POST", f"{one}/deliveries/999999999/redeliver", owner.headers)
    assert status == 404


async def test_a_replayed_create_does_not_show_the_secret_again(billing, owner):
    headers = owner.headers | {"Idempotency-Key": "hook-1"}
    first = await billing.post(f"{V1}/webhooks", json=HOOK, headers=headers)
    again = await billing.post(f"{V1}/webhooks", json=HOOK, headers=headers)
    assert first.status == again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    shown, replayed = (await first.json())["data"], (await again.json())["data"]
    assert shown["secret"].startswith("whsec_") and "secret" not in replayed
    assert replayed["id"] == shown["id"]


async def test_a_company_has_a_bounded_number_of_webhooks(start_billing, auth):
    """Each event is one delivery per endpoint: a company cannot multiply them without end."""
    billing = await start_billing(webhook_endpoints_per_company=3)
    setup = await setup_billing(billing, await auth.bearer())
    body = {"url": "https://hooks.example.com/in", "events": ["*"]}
    for _ in range(3):
        status, _ = await call(billing, "POST", "/api/v1/webhooks", setup.headers, body)
        assert status == 201
    status, refused = await call(billing, "POST", "/api/v1/webhooks", setup.headers, body)
    assert status == 422
    assert "at most 3 webhooks" in refused["errors"]["url"][0]
