"""Roles inside a company (billing_service.platform.permissions): what an owner, an admin and a member
may do, checked for the company of the record concerned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

DRAFT = {
    "scheduled_date": "2025-06-01",
    "due_date": "2025-06-30",
    "items": [{"label": "Design", "quantity": 10, "price": 100, "tax_percentage": 10}],
}


@dataclass
class Team:
    """A company with an owner, an admin and a member, and records of each kind."""

    headers: dict[str, dict[str, str]]  # role -> Authorization header
    user_ids: dict[str, int]  # role -> user id
    ids: dict[str, int]  # what the paths name: company, invoice, draft, quote, ...
    outsider_email: str  # a member account in no company yet

    def path(self, template: str) -> str:
        return template.format(**self.ids, **{f"{r}_id": i for r, i in self.user_ids.items()})


async def _bearer(auth: Any, user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}


async def _created(api: Any, method: str, path: str, headers: dict[str, str], body: Any) -> Any:
    status, answer = await api(method, path, headers, body)
    assert status in (200, 201), answer
    return answer["data"]


@pytest.fixture
async def team(api: Any, auth: Any, helpers: Any, billing: Any) -> Team:
    owner, admin, member, outsider = [await auth.user() for _ in range(4)]
    headers = {
        "owner": await _bearer(auth, owner),
        "admin": await _bearer(auth, admin),
        "member": await _bearer(auth, member),
    }
    setup = await helpers.setup(billing, headers["owner"])
    company = setup.company_id
    for user, role in ((admin, "admin"), (member, "member")):
        await _created(
            api,
            "POST",
            f"/api/v1/companies/{company}/members",
            headers["owner"],
            {"email": user.email, "role": role},
        )
    h = headers["owner"]
    draft = DRAFT | {"invoicer_id": setup.invoicer_id, "invoice_recipient_id": setup.recipient_id}
    invoice = await _created(api, "POST", "/api/v1/invoices", h, draft)
    await _created(api, "POST", f"/api/v1/invoices/{invoice['id']}/approve", h, {})
    ids = {
        "company": company,
        "invoicer": setup.invoicer_id,
        "detail": setup.payment_detail_id,
        "organisation": setup.organisation_id,
        "recipient": setup.recipient_id,
        "invoice": invoice["id"],
        "draft": (await _created(api, "POST", "/api/v1/invoices", h, draft))["id"],
        "quote": (await _created(api, "POST", "/api/v1/quotes", h, draft))["id"],
        "product": (
            await _created(
                api,
                "POST",
                "/api/v1/products",
                h,
                {"company_id": company, "type": "product", "name": "Desk", "stock_quantity": 5},
            )
        )["id"],
    }
    user_ids = {"owner": owner.id, "admin": admin.id, "member": member.id}
    return Team(headers, user_ids, ids, outsider.email)


PAYMENTS = "recording payments"
CANCEL = "cancelling invoices and quotes"
DELETE_DOCS = "deleting invoices and quotes"
INVOICERS = "creating, changing or deleting invoicers"
DETAILS = "creating, changing or deleting payment details"
RECIPIENTS = "creating, changing or deleting recipients"
ORGANISATIONS = "creating, changing or deleting organisations"
PRODUCTS = "creating, changing or deleting products"
CONTACTS = "inviting client-portal contacts"
MEMBERS = "managing members"
OWNERS = "granting or removing the owner role"

REFUSED: list[tuple[str, str, str, Any, str]] = [
    # role, method, path, body, what the message says is not allowed
    ("member", "POST", "/api/v1/invoices/{invoice}/pay", {"amount": "1.00"}, PAYMENTS),
    ("member", "POST", "/api/v1/invoices/{invoice}/cancel", {}, CANCEL),
    ("member", "DELETE", "/api/v1/invoices/{draft}", None, DELETE_DOCS),
    ("member", "DELETE", "/api/v1/quotes/{quote}", None, DELETE_DOCS),
    ("member", "POST", "/api/v1/invoicers", {"company_entity": "Mine"}, INVOICERS),
    ("member", "PUT", "/api/v1/invoicers/{invoicer}", {"company_entity": "Mine"}, INVOICERS),
    ("member", "DELETE", "/api/v1/invoicers/{invoicer}", None, INVOICERS),
    (
        "member",
        "POST",
        "/api/v1/invoicers/{invoicer}/payment-details",
        {"iban": "GB00MINE"},
        DETAILS,
    ),
    (
        "member",
        "PUT",
        "/api/v1/invoicers/{invoicer}/payment-details/{detail}",
        {"iban": "GB00MINE"},
        DETAILS,
    ),
    ("member", "DELETE", "/api/v1/invoicers/{invoicer}/payment-details/{detail}", None, DETAILS),
    (
        "member",
        "POST",
        "/api/v1/recipients",
        {"organisation_id": "{organisation}", "company_entity": "New Corp"},
        RECIPIENTS,
    ),
    ("member", "POST", "/api/v1/customers", {"company_name": "New Corp"}, RECIPIENTS),
    ("member", "PUT", "/api/v1/recipients/{recipient}", {"email": "me@evil.example"}, RECIPIENTS),
    ("member", "DELETE", "/api/v1/recipients/{recipient}", None, RECIPIENTS),
    ("member", "POST", "/api/v1/organisations", {"name": "Mine"}, ORGANISATIONS),
    ("member", "PUT", "/api/v1/organisations/{organisation}", {"name": "Mine"}, ORGANISATIONS),
    ("member", "DELETE", "/api/v1/organisations/{organisation}", None, ORGANISATIONS),
    ("member", "POST", "/api/v1/products", {"name": "Chair"}, PRODUCTS),
    ("member", "PUT", "/api/v1/products/{product}", {"price": "0.01"}, PRODUCTS),
    ("member", "DELETE", "/api/v1/products/{product}", None, PRODUCTS),
    ("member", "POST", "/api/v1/products/{product}/adjust-stock", {"adjustment": -5}, PRODUCTS),
    (
        "member",
        "POST",
        "/api/v1/recipients/{recipient}/contacts",
        {"email": "portal@client.example", "name": "Portal", "password": "chosen-by-me"},
        CONTACTS,
    ),
    ("member", "POST", "/api/v1/companies/{company}/members", {"email": "{outsider}"}, MEMBERS),
    (
        "member",
        "PUT",
        "/api/v1/companies/{company}/members/{admin_id}",
        {"role": "member"},
        MEMBERS,
    ),
    ("member", "DELETE", "/api/v1/companies/{company}/members/{admin_id}", None, MEMBERS),
    ("member", "PATCH", "/api/v1/companies/{company}", {"name": "Hijack"}, "changing the company"),
    ("member", "DELETE", "/api/v1/companies/{company}", None, "deleting the company"),
    ("admin", "DELETE", "/api/v1/companies/{company}", None, "deleting the company"),
    (
        "admin",
        "POST",
        "/api/v1/companies/{company}/members",
        {"email": "{outsider}", "role": "owner"},
        OWNERS,
    ),
    ("admin", "PUT", "/api/v1/companies/{company}/members/{member_id}", {"role": "owner"}, OWNERS),
    ("admin", "PUT", "/api/v1/companies/{company}/members/{owner_id}", {"role": "admin"}, OWNERS),
    ("admin", "DELETE", "/api/v1/companies/{company}/members/{owner_id}", None, OWNERS),
]


def _body(team: Team, body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    values = {"organisation": team.ids["organisation"], "outsider": team.outsider_email}
    return {
        key: (int(value.format(**values)) if value == "{organisation}" else value.format(**values))
        if isinstance(value, str)
        else value
        for key, value in body.items()
    }


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "doing"),
    REFUSED,
    ids=[f"{role}-{method}-{path}" for role, method, path, _, _ in REFUSED],
)
async def test_refused_with_a_message_naming_the_role(api, team, role, method, path, body, doing):
    status, answer = await api(method, team.path(path), team.headers[role], _body(team, body))
    assert status == 403, answer
    assert answer["error_code"] == "FORBIDDEN"
    assert answer["message"] == f"Your role ({role}) in this company does not allow {doing}."


async def test_a_refused_change_changes_nothing(api, team):
    member, owner = team.headers["member"], team.headers["owner"]
    detail_path = team.path("/api/v1/invoicers/{invoicer}/payment-details/{detail}")
    assert (await api("PUT", detail_path, member, {"iban": "GB00MINE"}))[0] == 403
    assert (await api("GET", detail_path, owner))[1]["data"]["iban"] == "GB00TEST"
    pay = team.path("/api/v1/invoices/{invoice}/pay")
    assert (await api("POST", pay, member, {"amount": "1.00"}))[0] == 403
    invoice = (await api("GET", team.path("/api/v1/invoices/{invoice}"), owner))[1]["data"]
    assert invoice["amount_paid"] == "0.00" and invoice["payments"] == []
    status, contacts = await api("GET", team.path("/api/v1/recipients/{recipient}/contacts"), owner)
    assert (status, contacts["data"]) == (200, [])


async def test_a_member_reads_everything_and_writes_documents(api, team):
    h = team.headers["member"]
    for path in (
        "/api/v1/invoicers/{invoicer}",
        "/api/v1/recipients/{recipient}",
        "/api/v1/products/{product}",
        "/api/v1/companies/{company}/members",
        "/api/v1/invoices/{invoice}",
    ):
        assert (await api("GET", team.path(path), h))[0] == 200, path
    ids = team.ids
    body = DRAFT | {"invoicer_id": ids["invoicer"], "invoice_recipient_id": ids["recipient"]}
    status, created = await api("POST", "/api/v1/invoices", h, body)
    assert status == 201
    assert (await api("POST", "/api/v1/quotes", h, body))[0] == 201
    draft = team.path("/api/v1/invoices/{draft}")
    assert (await api("PUT", draft, h, {"subject": "Edited by a member"}))[0] == 200
    status, _ = await api("POST", f"{draft}/send", h, {"template": "invoice-issued"})
    assert status == 200
    quote = team.path("/api/v1/invoices/{quote}")
    assert (await api("POST", f"{quote}/send", h, {"template": "quote"}))[0] == 200
    assert (await api("POST", f"{quote}/approve", h, {}))[0] == 200
    # Leaving the company is always allowed (it is not managing members).
    leave = team.path("/api/v1/companies/{company}/members/{member_id}")
    assert (await api("DELETE", leave, h))[0] == 204


async def test_an_admin_manages_all_but_the_company_and_its_owners(api, team):
    h = team.headers["admin"]
    assert (await api("POST", team.path("/api/v1/invoices/{invoice}/pay"), h, {"amount": "1.00"}))[
        0
    ] == 200
    assert (await api("DELETE", team.path("/api/v1/invoices/{draft}"), h))[0] == 204
    status, _ = await api(
        "POST", "/api/v1/invoicers", h, {"company_id": team.ids["company"], "company_entity": "B"}
    )
    assert status == 201
    detail = team.path("/api/v1/invoicers/{invoicer}/payment-details/{detail}")
    assert (await api("PUT", detail, h, {"iban": "GB00NEW"}))[0] == 200
    invite = {"email": "portal-admin@client.example", "name": "Portal"}
    status, _ = await api("POST", team.path("/api/v1/recipients/{recipient}/contacts"), h, invite)
    assert status == 201
    members = team.path("/api/v1/companies/{company}/members")
    assert (await api("POST", members, h, {"email": team.outsider_email}))[0] == 201
    member = team.path("/api/v1/companies/{company}/members/{member_id}")
    assert (await api("PUT", member, h, {"role": "admin"}))[0] == 200


async def test_an_owner_changes_owners_and_deletes_the_company(api, team, auth):
    h = team.headers["owner"]
    member = team.path("/api/v1/companies/{company}/members/{member_id}")
    status, answer = await api("PUT", member, h, {"role": "owner"})
    assert (status, answer["data"]["role"]) == (200, "owner")
    status, spare = await api("POST", "/api/v1/companies", h, {"name": "Spare"})
    assert (await api("DELETE", f"/api/v1/companies/{spare['data']['id']}", h))[0] == 204


async def test_the_role_that_counts_is_the_one_in_the_records_company(api, auth, team):
    """A user who owns one company and is a plain member of another, with the first as their
    current company, is a member for the second's records."""
    member = team.headers["member"]
    status, own = await api("POST", "/api/v1/companies", member, {"name": "Own Co"})
    assert status == 201
    switch = {"team_id": own["data"]["id"]}
    assert (await api("POST", "/api/v1/teams/switch", member, switch))[0] == 200
    pay = team.path("/api/v1/invoices/{invoice}/pay")
    status, answer = await api("POST", pay, member, {"amount": "1.00"})
    assert status == 403 and "(member)" in answer["message"]
    named = {"company_id": team.ids["company"], "company_entity": "Elsewhere"}
    status, answer = await api("POST", "/api/v1/invoicers", member, named)
    assert status == 403 and "(member)" in answer["message"]
    # In their own company (the current one) they are the owner.
    status, _ = await api("POST", "/api/v1/invoicers", member, {"company_entity": "Own"})
    assert status == 201
