"""GET/PUT /companies/{id}/reminders (off by default, validated, abilities, tenants, roles) and
`reminders_paused` on invoices and customers through their own update endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from ..helpers.invoices import assert_422_on, created_invoice

STEPS = [
    {"days": -3},
    {"days": 0},
    {"days": 7, "template": "invoice-reminder", "extend_due_days": 14},
    {"days": 14, "late_fee": {"percent": "2.0"}},
    {"days": 30, "late_fee": {"amount": "10.00"}, "repeat_every_days": 30},
]


def reminders(company_id: int) -> str:
    return f"/api/v1/companies/{company_id}/reminders"


async def test_off_by_default_then_set_and_read_back_with_default_templates(api, make_setup):
    setup = await make_setup()
    status, answer = await api("GET", reminders(setup.company_id), setup.headers)
    assert status == 200 and answer["data"] == {"enabled": False, "steps": []}

    status, answer = await api(
        "PUT", reminders(setup.company_id), setup.headers, {"enabled": True, "steps": STEPS}
    )
    assert status == 200, answer
    status, read = await api("GET", reminders(setup.company_id), setup.headers)
    assert status == 200 and read["data"] == answer["data"]
    steps = read["data"]["steps"]
    assert read["data"]["enabled"] is True
    assert [step["template"] for step in steps] == [
        "invoice-reminder",  # before the due date
        "invoice-due",  # on it
        "invoice-reminder",  # chosen
        "invoice-due-reminder",  # after it
        "invoice-due-reminder",
    ]
    assert steps[2]["extend_due_days"] == 14 and steps[2]["late_fee"] is None
    assert steps[3]["late_fee"] == {"percent": "2.0", "amount": None}
    assert steps[4]["late_fee"] == {"percent": None, "amount": "10.00"}
    assert steps[4]["repeat_every_days"] == 30 and steps[0]["repeat_every_days"] is None

    # Switched off, the steps are kept as sent.
    status, answer = await api(
        "PUT", reminders(setup.company_id), setup.headers, {"enabled": False, "steps": STEPS[:1]}
    )
    assert status == 200 and answer["data"]["enabled"] is False
    assert len(answer["data"]["steps"]) == 1


BAD: list[tuple[Any, str]] = [
    ({"enabled": True, "steps": [{"days": 7}, {"days": 7}]}, "steps.1.days"),
    ({"enabled": True, "steps": [{"days": 1}, {"days": 9}, {"days": 3}]}, "steps.2.days"),
    (
        {"enabled": True, "steps": [{"days": 1, "repeat_every_days": 7}, {"days": 9}]},
        "steps.0.repeat_every_days",
    ),
    (
        {"enabled": True, "steps": [{"days": 9, "repeat_every_days": 0}]},
        "steps.0.repeat_every_days",
    ),
    ({"enabled": True, "steps": [{"days": 4000}]}, "steps.0.days"),
    ({"enabled": True, "steps": [{"days": -400}]}, "steps.0.days"),
    ({"enabled": True, "steps": [{"days": "soon"}]}, "steps.0.days"),
    ({"enabled": True, "steps": [{}]}, "steps.0.days"),
    ({"enabled": True, "steps": [{"days": 1, "template": "quote"}]}, "steps.0.template"),
    ({"enabled": True, "steps": [{"days": 1, "late_fee": {}}]}, "steps.0.late_fee"),
    (
        {"enabled": True, "steps": [{"days": 1, "late_fee": {"percent": "1", "amount": "1"}}]},
        "steps.0.late_fee",
    ),
    (
        {"enabled": True, "steps": [{"days": 1, "late_fee": {"percent": "0"}}]},
        "steps.0.late_fee.percent",
    ),
    (
        {"enabled": True, "steps": [{"days": 1, "late_fee": {"percent": "101"}}]},
        "steps.0.late_fee.percent",
    ),
    (
        {"enabled": True, "steps": [{"days": 1, "late_fee": {"percent": "50.01"}}]},
        "steps.0.late_fee.percent",
    ),
    (
        {"enabled": True, "steps": [{"days": 1, "late_fee": {"amount": "-5"}}]},
        "steps.0.late_fee.amount",
    ),
    (
        {"enabled": True, "steps": [{"days": 1, "late_fee": {"amount": "1.00001"}}]},
        "steps.0.late_fee.amount",
    ),
    (
        {"enabled": True, "steps": [{"days": 1, "late_fee": {"amount": "NaN"}}]},
        "steps.0.late_fee.amount",
    ),
    ({"enabled": True, "steps": [{"days": 1, "extend_due_days": 1000}]}, "steps.0.extend_due_days"),
    ({"enabled": True, "steps": [{"days": day} for day in range(11)]}, "steps"),
    ({"enabled": "perhaps"}, "enabled"),
    ({"enabled": True, "steps": {"days": 1}}, "steps"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
async def test_bad_settings_are_422_naming_the_field_and_change_nothing(
    api, make_setup, body, field
):
    setup = await make_setup()
    good = {"enabled": True, "steps": [{"days": 5}]}
    assert (await api("PUT", reminders(setup.company_id), setup.headers, good))[0] == 200
    status, answer = await api("PUT", reminders(setup.company_id), setup.headers, body)
    assert_422_on(status, answer, field)
    status, read = await api("GET", reminders(setup.company_id), setup.headers)
    assert read["data"]["steps"] == [
        {
            "days": 5,
            "template": "invoice-due-reminder",
            "late_fee": None,
            "repeat_every_days": None,
            "extend_due_days": None,
        }
    ]


@pytest.mark.parametrize(
    ("body", "missing"),
    [({}, ["enabled", "steps"]), ({"steps": []}, ["enabled"]), ({"enabled": False}, ["steps"])],
)
async def test_a_put_names_every_field_it_misses_and_changes_nothing(
    api, make_setup, body, missing
):
    """A PUT replaces the whole settings: without `enabled` or `steps` nothing is wiped."""
    setup = await make_setup()
    good = {"enabled": True, "steps": [{"days": 5}]}
    assert (await api("PUT", reminders(setup.company_id), setup.headers, good))[0] == 200
    status, answer = await api("PUT", reminders(setup.company_id), setup.headers, body)
    assert (status, sorted(answer["errors"])) == (422, missing), answer
    for field in missing:
        assert answer["errors"][field] == [f"The {field} field is required."]
    status, read = await api("GET", reminders(setup.company_id), setup.headers)
    assert read["data"]["enabled"] is True and len(read["data"]["steps"]) == 1


@pytest.mark.parametrize(
    ("fee", "message"),
    [
        ({"amount": "0"}, "The steps.0.late fee.amount field must be greater than 0."),
        ({"percent": "0"}, "The steps.0.late fee.percent field must be greater than 0."),
        ({"percent": "50.5"}, "The steps.0.late fee.percent field must not be greater than 50."),
    ],
)
async def test_a_late_fee_is_above_nothing_and_at_most_half(api, make_setup, fee, message):
    setup = await make_setup()
    body = {"enabled": True, "steps": [{"days": 1, "late_fee": fee}]}
    status, answer = await api("PUT", reminders(setup.company_id), setup.headers, body)
    field = f"steps.0.late_fee.{next(iter(fee))}"
    assert (status, answer["errors"]) == (422, {field: [message]}), answer
    body["steps"][0]["late_fee"] = {next(iter(fee)): "50" if "percent" in fee else "0.01"}
    assert (await api("PUT", reminders(setup.company_id), setup.headers, body))[0] == 200


async def test_abilities_and_tenants(api, make_setup, auth):
    setup, stranger = await make_setup(), await make_setup()
    path = reminders(setup.company_id)
    body = {"enabled": True, "steps": [{"days": 1}]}
    # Another company's owner: not found, either way.
    assert (await api("GET", path, stranger.headers))[0] == 404
    assert (await api("PUT", path, stranger.headers, body))[0] == 404
    assert (await api("GET", reminders(999_999_999), setup.headers))[0] == 404
    # A token without the ability: 403 before anything is looked at.
    reader = await auth.bearer(["companies:read"])
    status, answer = await api("PUT", reminders(setup.company_id), reader, body)
    assert status == 403, answer
    writer_only = await auth.bearer(["invoices:read"])
    assert (await api("GET", path, writer_only))[0] == 403
    # Nothing was written by any refusal.
    assert (await api("GET", path, setup.headers))[1]["data"]["enabled"] is False


async def test_members_read_owners_and_admins_change(api, auth):
    owner = await auth.user()
    owner_headers = {"Authorization": f"Bearer {await auth.identity_jwt(owner.token)}"}
    status, company = await api("POST", "/api/v1/companies", owner_headers, {"name": "Roles"})
    company_id = company["data"]["id"]
    headers = {}
    for role in ("admin", "member"):
        user = await auth.user()
        status, _ = await api(
            "POST",
            f"/api/v1/companies/{company_id}/members",
            owner_headers,
            {"email": user.email, "role": role},
        )
        assert status == 201
        headers[role] = {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
    body = {"enabled": True, "steps": [{"days": 3}]}
    status, answer = await api("PUT", reminders(company_id), headers["member"], body)
    assert status == 403 and "changing the company" in answer["message"]
    assert (await api("GET", reminders(company_id), headers["member"]))[0] == 200
    assert (await api("PUT", reminders(company_id), headers["admin"], body))[0] == 200
    status, read = await api("GET", reminders(company_id), headers["member"])
    assert read["data"]["enabled"] is True


async def test_reminders_paused_on_an_issued_invoice_and_on_a_customer(api, make_setup):
    setup = await make_setup()
    invoice = await created_invoice(api, setup, due_date="2025-06-30", scheduled_date="2025-06-01")
    assert invoice["reminders_paused"] is False
    path = f"/api/v1/invoices/{invoice['id']}"
    assert (await api("POST", f"{path}/approve", setup.headers, {}))[0] == 200
    # Issued: the pause is the one thing an update may change.
    status, answer = await api("PATCH", path, setup.headers, {"reminders_paused": True})
    assert status == 200, answer
    assert answer["data"]["reminders_paused"] is True
    assert answer["data"]["history"][-1]["event"] == "reminders_paused"
    status, answer = await api("GET", path, setup.headers)
    assert answer["data"]["reminders_paused"] is True
    status, _ = await api(
        "PATCH", path, setup.headers, {"reminders_paused": False, "notes": "changed"}
    )
    assert status == 409  # anything else still needs a draft
    status, answer = await api("PATCH", path, setup.headers, {"reminders_paused": None})
    assert_422_on(status, answer, "reminders_paused")
    status, answer = await api("PATCH", path, setup.headers, {"reminders_paused": False})
    assert status == 200 and answer["data"]["reminders_paused"] is False

    customer = f"/api/v1/recipients/{setup.recipient_id}"
    status, answer = await api("GET", customer, setup.headers)
    assert answer["data"]["reminders_paused"] is False
    status, answer = await api("PATCH", customer, setup.headers, {"reminders_paused": True})
    assert status == 200 and answer["data"]["reminders_paused"] is True
    status, answer = await api("GET", f"/api/v1/customers/{setup.recipient_id}", setup.headers)
    assert answer["data"]["reminders_paused"] is True
    status, answer = await api("PATCH", customer, setup.headers, {"reminders_paused": "x"})
    assert_422_on(status, answer, "reminders_paused")


async def test_a_member_who_may_edit_the_invoice_may_pause_its_reminders(api, make_setup, auth):
    """The pause is part of the invoice, not of the settings (owners and admins only)."""
    setup = await make_setup()
    member = await auth.user()
    path = f"/api/v1/companies/{setup.company_id}/members"
    body = {"email": member.email, "role": "member"}
    assert (await api("POST", path, setup.headers, body))[0] == 201
    headers = {"Authorization": f"Bearer {await auth.identity_jwt(member.token)}"}
    invoice = await created_invoice(api, setup, due_date="2025-06-30", scheduled_date="2025-06-01")
    path = f"/api/v1/invoices/{invoice['id']}"
    assert (await api("POST", f"{path}/approve", setup.headers, {}))[0] == 200
    status, answer = await api("PATCH", path, headers, {"reminders_paused": True})
    assert status == 200 and answer["data"]["reminders_paused"] is True, answer
    settings = {"enabled": True, "steps": []}
    assert (await api("PUT", reminders(setup.company_id), headers, settings))[0] == 403
