"""E-mail quotas at the API: one send of an invoice a minute, counted after authorization and
only when an e-mail was queued; a cap per company and hour."""

from __future__ import annotations

import asyncio

from billing_service.platform.keys import POOL

SEND_BODY = {"template": "invoice-issued"}


async def send(client, setup, invoice_id, path="send"):
    response = await client.post(
        f"/api/v1/invoices/{invoice_id}/{path}", json=SEND_BODY, headers=setup.headers
    )
    return response.status, response.headers.get("Retry-After"), await response.json()


async def queued(billing, invoice_id) -> int:
    return await billing.app[POOL].fetchval(
        "SELECT count(*) FROM email_outbox WHERE invoice_id = $1", invoice_id
    )


async def test_concurrent_sends_of_one_invoice_queue_exactly_one(api, make_setup, billing, helpers):
    setup = await make_setup()
    invoice_id = await helpers.invoice(billing, setup)
    results = await asyncio.gather(
        *(send(billing, setup, invoice_id, path) for path in ["send", "send-email"] * 5)
    )
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] + [429] * 9
    for status, retry_after, body in results:
        if status == 429:
            assert body["error_code"] == "RATE_LIMITED"
            assert 1 <= int(retry_after) <= 60
    assert await queued(billing, invoice_id) == 1


async def test_only_queued_sends_count_and_the_window_passes(api, make_setup, billing, helpers):
    owner, stranger = await make_setup(), await make_setup()
    no_email = await make_setup(email=None)
    invoice_id = await helpers.invoice(billing, owner)
    # Another tenant's attempts are 404s, and use up nothing.
    for _ in range(3):
        status, _, _ = await send(billing, stranger, invoice_id)
        assert status == 404
    # Neither does a send refused for a missing address.
    refused = await helpers.invoice(billing, no_email)
    assert (await send(billing, no_email, refused))[0] == 422
    assert (await send(billing, owner, invoice_id))[0] == 200
    assert (await send(billing, owner, invoice_id))[0] == 429
    # A minute later, the next send is queued.
    await billing.app[POOL].execute(
        "UPDATE email_outbox SET created_at = created_at - interval '61 seconds' "
        "WHERE invoice_id = $1",
        invoice_id,
    )
    assert (await send(billing, owner, invoice_id))[0] == 200
    assert await queued(billing, invoice_id) == 2


async def test_a_company_over_its_hourly_cap_gets_429(start_billing, auth, helpers):
    service = await start_billing(mail_company_hourly_cap=3)
    capped = await helpers.setup(service, await auth.bearer())
    other = await helpers.setup(service, await auth.bearer())

    for _ in range(3):
        assert (await send(service, capped, await helpers.invoice(service, capped)))[0] == 200
    status, retry_after, body = await send(service, capped, await helpers.invoice(service, capped))
    assert (status, body["error_code"]) == (429, "RATE_LIMITED")
    assert 3500 < int(retry_after) <= 3600
    assert (await send(service, other, await helpers.invoice(service, other)))[0] == 200


async def test_another_company_buys_no_more_email_for_its_user(start_billing, auth, helpers):
    service = await start_billing(mail_company_hourly_cap=100, mail_user_hourly_cap=3)
    first = await helpers.setup(service, await auth.bearer())
    for _ in range(3):
        assert (await send(service, first, await helpers.invoice(service, first)))[0] == 200
    # The same user, in a company of their own making a moment later.
    second = await helpers.setup(service, first.headers)
    assert second.company_id != first.company_id
    status, retry_after, body = await send(service, second, await helpers.invoice(service, second))
    assert (status, body["error_code"]) == (429, "RATE_LIMITED")
    assert 3500 < int(retry_after) <= 3600
    someone_else = await helpers.setup(service, await auth.bearer())
    assert (await send(service, someone_else, await helpers.invoice(service, someone_else)))[
        0
    ] == 200


async def test_create_next_of_an_auto_send_template_is_a_send(start_billing, auth, helpers):
    from auth_service.keys import TOKENS

    service = await start_billing(mail_user_hourly_cap=2)
    user = await auth.user()
    setup = await helpers.setup(
        service, {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    )
    template = {"type": "recurring", "recurring": "daily", "auto_send": True, "max_runs": 100}
    template_id = await helpers.invoice(service, setup, **template)
    path = f"/api/v1/invoices/{template_id}/create-next"
    # A token that may create but not send gets no e-mail out of a template.
    narrow = await auth.app[TOKENS].issue(
        user_id=user.id,
        name="no-send",
        abilities=["invoices:create", "invoices:read"],
        expires_at=None,
    )
    no_send = {"Authorization": f"Bearer {await auth.identity_jwt(narrow.plain_text)}"}
    status, refused = await helpers.call(service, "POST", path, no_send)
    assert (status, refused["error_code"]) == (403, "FORBIDDEN")
    for _ in range(2):
        assert (await helpers.call(service, "POST", path, setup.headers))[0] == 201
    status, refused = await helpers.call(service, "POST", path, setup.headers)
    assert (status, refused["error_code"]) == (429, "RATE_LIMITED")
    sent = await service.app[POOL].fetchval(
        "SELECT count(*) FROM email_outbox o JOIN invoices i ON i.id = o.invoice_id "
        "WHERE i.invoice_parent_id = $1",
        template_id,
    )
    assert sent == 2


async def test_concurrent_sends_of_many_invoices_stop_at_the_company_cap(
    start_billing, auth, helpers
):
    service = await start_billing(mail_company_hourly_cap=5)
    setup = await helpers.setup(service, await auth.bearer())
    invoice_ids = [await helpers.invoice(service, setup) for _ in range(12)]
    results = await asyncio.gather(
        *(send(service, setup, invoice_id) for invoice_id in invoice_ids)
    )
    assert sorted(status for status, _, _ in results) == [200] * 5 + [429] * 7
