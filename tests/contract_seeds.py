"""The records a contract run needs, created through the gateway before it starts: the users
(in one `docker compose exec`: each is a password hash), a company holding one record of each
kind and a spare of each for what DELETE removes, and the invoices each action needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

PASSWORD = "contract-password-1"


@dataclass
class Seeds:
    records: dict[str, Any]  # "company" -> id, "spare_company" -> id, ...
    owner_token: str
    admin_tokens: list[str]
    revoker_token: str  # calls DELETE /tokens/{id} on the revoker's spare token
    logout_token: str  # the token POST /logout revokes


class Api:
    """The seeding client: JSON through the gateway, answers checked."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"

    def call(self, method: str, path: str, token: str | None = None, **body: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.session.request(
            method, self.base_url + path, json=body or None, headers=headers, timeout=30
        )
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def token(self, email: str, device: str = "contract") -> str:
        answer = self.call(
            "POST", "/api/v1/tokens", email=email, password=PASSWORD, device_name=device
        )
        return str(answer["token"])

    def create(self, path: str, token: str, **body: Any) -> Any:
        return self.call("POST", path, token, **body)["data"]


def new_emails(admins: int) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {
        "owner": f"contract-owner-{tag}@example.com",
        "admins": [f"contract-admin{i}-{tag}@example.com" for i in range(admins)],
        # Revokes its own tokens, and is the member whose role the run changes and removes.
        "revoker": f"contract-revoker-{tag}@example.com",
    }


def all_emails(emails: dict[str, Any]) -> list[str]:
    return [emails["owner"], *emails["admins"], emails["revoker"]]


CREATE_USERS = """
import sys
from auth_service.cli import main
for email in sys.argv[2:]:
    main(["create-user", "--email", email, "--password", sys.argv[1], "--name", "Contract User"])
"""


def create_users_command(emails: list[str]) -> list[str]:
    """`docker compose exec` arguments creating every user in one process."""
    return ["exec", "-T", "auth-service", "python", "-c", CREATE_USERS, PASSWORD, *emails]


def seed(api: Api, emails: dict[str, Any]) -> Seeds:
    owner = api.token(emails["owner"])
    records: dict[str, Any] = {}
    # The spare company is bare: deleting it must not take the other spare records with it.
    records["spare_company"] = api.create("/api/v1/companies", owner, name="Contract Spare")["id"]
    records["company"] = api.create("/api/v1/companies", owner, name="Contract Ltd")["id"]
    for prefix in ("", "spare_"):
        _seed_records(api, owner, records, prefix)
    # The three names of a recipient each delete a spare of their own.
    records["recipient"] = records["buyer"] = records["customer"]
    for name in ("spare_recipient", "spare_buyer"):
        records[name] = _customer(api, owner, records["company"])
    company = records["company"]
    for admin in emails["admins"]:
        api.call("POST", f"/api/v1/companies/{company}/members", owner, email=admin, role="admin")
    added = api.call(
        "POST",
        f"/api/v1/companies/{company}/members",
        owner,
        email=emails["revoker"],
        role="member",
    )
    records["member"] = _user_id(added, emails["revoker"])
    _seed_invoices(api, owner, records)
    _seed_webhooks(api, owner, records)
    revoker = api.token(emails["revoker"])
    spare_token = api.token(emails["revoker"], "spare")
    records["token"] = records["spare_token"] = int(spare_token.split("|")[0])
    return Seeds(
        records=records,
        owner_token=owner,
        admin_tokens=[api.token(email) for email in emails["admins"]],
        revoker_token=revoker,
        logout_token=api.token(emails["revoker"], "logout"),
    )


def _user_id(answer: Any, email: str) -> int:
    """The member's user id, wherever the answer puts it (the member itself or the list)."""
    data = answer.get("data", answer)
    members = data if isinstance(data, list) else [data]
    for member in members:
        if member.get("email") == email:
            return int(member.get("user_id") or member["id"])
    raise AssertionError(f"no member {email} in {answer}")


# What every e-invoice format needs (GET /invoices/{id}/einvoice answers the seeded invoice).
EINVOICE_PARTY = {"city": "Berlin", "postcode": "10115", "country_code": "DE"}
EINVOICE_SELLER = EINVOICE_PARTY | {
    "vat_id": "DE123456789",
    "peppol_id": "9930:DE123456789",
    "contact_name": "Contract Desk",
    "phone": "+49 30 1234567",
    "email": "desk@contract.example",
}
EINVOICE_BUYER = EINVOICE_PARTY | {
    "peppol_id": "0088:4035811991014",
    "buyer_reference": "04011000-12345-03",
}


def _customer(api: Api, owner: str, company: int) -> int:
    return int(
        api.create(
            "/api/v1/customers",
            owner,
            company_id=company,
            company_name="Client Corp",
            email="ap@client.example",
            **EINVOICE_BUYER,
        )["id"]
    )


def _seed_records(api: Api, owner: str, records: dict[str, Any], prefix: str) -> None:
    """One record of each kind in the run's company (`prefix` "spare_": the ones DELETE may
    remove)."""
    cid = records["company"]
    records[prefix + "organisation"] = api.create(
        "/api/v1/organisations", owner, name=f"Org {prefix}main", company_id=cid
    )["id"]
    invoicer = api.create(
        "/api/v1/invoicers",
        owner,
        company_id=cid,
        company_entity="Contract Ltd",
        currency="USD",
        tax_rate=20,
        **EINVOICE_SELLER,
    )["id"]
    records[prefix + "invoicer"] = invoicer
    # A spare payment detail belongs to the main invoicer, whose id stays in its path.
    records[prefix + "payment_detail"] = api.create(
        f"/api/v1/invoicers/{records['invoicer']}/payment-details",
        owner,
        label="Main account",
        bank_name="Contract Bank",
        account_name="Contract Ltd",
        account_number="12345678",
        iban="DE89370400440532013000",
    )["id"]
    records[prefix + "customer"] = _customer(api, owner, cid)
    records[prefix + "product"] = api.create(
        "/api/v1/products",
        owner,
        company_id=cid,
        type="product",
        name="Widget",
        price="10.00",
        stock_quantity=100,
    )["id"]


def _seed_invoices(api: Api, owner: str, records: dict[str, Any]) -> None:
    parties = {
        "company_id": records["company"],
        "invoicer_id": records["invoicer"],
        "invoicer_payment_detail_id": records["payment_detail"],
        "customer_id": records["customer"],
        "items": [{"description": "Web development", "quantity": 40, "unit_price": 150}],
        "due_date": (date.today() + timedelta(days=30)).isoformat(),  # e-invoices need one
    }
    for name, extra in (
        ("invoice", {}),
        ("spare_invoice", {}),
        ("approved", {}),
        ("recurring", {"type": "recurring", "recurring": "monthly"}),
        ("quote", {"type": "quote"}),
        ("spare_quote", {"type": "quote"}),
    ):
        records[name] = api.create("/api/v1/invoices", owner, **parties, **extra)["id"]
    approved = records["approved"]
    api.call("POST", f"/api/v1/invoices/{approved}/approve", owner)
    shown = api.call("GET", f"/api/v1/invoices/{approved}", owner)["data"]
    records["public_id"] = urlsplit(shown["public_url"]).path.rstrip("/").rsplit("/", 1)[-1]
    link = api.call("GET", f"/api/v1/invoices/{approved}/download", owner)["data"]
    url = urlsplit(link["download_url"])
    records["document"] = url.path.rsplit("/", 1)[-1]
    records["document_query"] = {key: values[0] for key, values in parse_qs(url.query).items()}


def _seed_webhooks(api: Api, owner: str, records: dict[str, Any]) -> None:
    """An endpoint (and a spare), its test event and that event's delivery. The host never
    answers: nothing in a contract run waits for a delivery."""
    for name in ("webhook", "spare_webhook"):
        records[name] = api.create(
            "/api/v1/webhooks",
            owner,
            company_id=records["company"],
            url="https://hooks.example.com/contract",
            events=["*"],
        )["id"]
    test = api.call("POST", f"/api/v1/webhooks/{records['webhook']}/test", owner)["data"]
    records["event"], records["delivery"] = test["event_id"], test["delivery_id"]
