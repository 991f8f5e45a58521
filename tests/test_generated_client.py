"""A client generated from `/api/v1/openapi.json` by openapi-python-client runs the README's
walkthrough ("Try it") through its typed functions and models.

Operations are found by method and path in the generated modules, so the test does not depend
on the operationIds the document chooses; bodies are the generated models (`from_dict`), and
answers are read from the parsed models' attributes, never from raw JSON.
"""

from __future__ import annotations

import enum
import importlib
import json
import re
import shutil
import subprocess
import sys
import typing
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from tests.contract_harness import base_url_of

pytestmark = pytest.mark.stack

PACKAGE = "walkthrough_client"
_ENDPOINT = re.compile(r'"method": "(\w+)",\s*"url": "([^"]+)"')


class Generated:
    def __init__(self, root: Path, base_url: str, warnings: list[str]) -> None:
        self.package = importlib.import_module(PACKAGE)
        self.base_url = base_url
        self.warnings = warnings
        self.endpoints: dict[tuple[str, str], ModuleType] = {}
        for source in sorted((root / PACKAGE / "api").glob("*/*.py")):
            found = _ENDPOINT.search(source.read_text())
            if found:
                module = f"{PACKAGE}.api.{source.parent.name}.{source.stem}"
                self.endpoints[(found[1].upper(), found[2])] = importlib.import_module(module)

    def client(self, token: str | None = None) -> Any:
        if token is None:
            return self.package.Client(base_url=self.base_url, raise_on_unexpected_status=True)
        return self.package.AuthenticatedClient(
            base_url=self.base_url, token=token, raise_on_unexpected_status=True
        )

    def call(self, client: Any, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """The operation's typed `sync_detailed`, its body built as the generated model."""
        module = self.endpoints.get((method, self._path(path)))
        assert module is not None, f"{method} {path} was not generated"
        hints = typing.get_type_hints(module.sync_detailed)
        if body is not None:
            model = _model_of(hints["body"])
            params["body"] = model.from_dict(body)
        params = {name: _as_typed(hints[name], value) for name, value in params.items()}
        return module.sync_detailed(client=client, **params)

    def _path(self, path: str) -> str:
        """The document's spelling: whole (`/api/v1/me`) or under the server URL (`/me`)."""
        if any(key[1] == path for key in self.endpoints):
            return path
        return path.removeprefix("/api/v1")


def _as_typed(annotation: Any, value: Any) -> Any:
    """A plain value as the generated enum the parameter takes (`status="paid"` as
    `ListInvoicesStatus.PAID`), as a typed caller writes it; any other value as it is."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return candidate(value) if not isinstance(value, enum.Enum) else value
    return value


def _model_of(annotation: Any) -> Any:
    """The generated model class in a body annotation (`Model`, `Model | Unset`)."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if hasattr(candidate, "from_dict"):
            return candidate
    raise AssertionError(f"no model in {annotation}")


@pytest.fixture(scope="module")
def generated(stack, tmp_path_factory) -> Generated:
    root = tmp_path_factory.mktemp("client")
    document = requests.get(f"{stack.base_url}/api/v1/openapi.json", timeout=30).json()
    (root / "openapi.json").write_text(json.dumps(document))
    (root / "config.json").write_text(
        # The PDF download is bytes to the client (the generator knows no application/pdf;
        # the logo upload is published as application/octet-stream, which it knows), and so
        # is a CSV import's file (it knows no text/csv either).
        json.dumps(
            {
                "package_name_override": PACKAGE,
                "post_hooks": [],
                "content_type_overrides": {
                    media_type: "application/octet-stream"
                    for media_type in ("application/pdf", "text/csv")
                },
            }
        )
    )
    generator = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    assert generator is not None
    done = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(root / "openapi.json"),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(root / "config.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    # Each warning is a "WARNING parsing <operation>" line and the reason on the next one.
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    warnings = [
        f"{line}: {lines[index + 1] if index + 1 < len(lines) else ''}"
        for index, line in enumerate(lines)
        if line.startswith("WARNING")
    ]
    sys.path.insert(0, str(root))
    try:
        return Generated(root, base_url_of(document, stack.base_url), warnings)
    finally:
        sys.path.remove(str(root))


def test_the_generator_keeps_every_operation(generated):
    """openapi-python-client warns (and drops the operation) where the document is unclear."""
    assert not generated.warnings, "\n\n".join(generated.warnings)


def test_readme_walkthrough(stack, generated):
    email, password = stack.create_user()
    anonymous = generated.client()
    # 1. A personal access token.
    issued = generated.call(
        anonymous,
        "POST",
        "/api/v1/tokens",
        {"email": email, "password": password, "device_name": "curl"},
    )
    assert issued.status_code == 201, issued.content
    token = issued.parsed.token
    assert token.split("|")[0].isdigit()
    me = generated.client(token)

    # 2. Who am I? (every answer carries the rate-limit headers)
    whoami = generated.call(me, "GET", "/api/v1/me")
    assert whoami.status_code == 200
    assert whoami.parsed.email == email
    assert "X-RateLimit-Remaining" in whoami.headers

    # 3. The profile, and an update.
    assert generated.call(me, "GET", "/api/v1/profile").status_code == 200
    updated = generated.call(
        me, "PUT", "/api/v1/profile", {"company_name": "Acme Ltd", "city": "Cape Town"}
    )
    assert updated.status_code == 200, updated.content
    assert updated.parsed.data.city == "Cape Town"

    # 4. A company (the caller becomes its owner), then the list (Laravel pagination).
    company = generated.call(me, "POST", "/api/v1/companies", {"name": "Acme Ltd"})
    assert company.status_code == 201, company.content
    listed = generated.call(me, "GET", "/api/v1/companies")
    assert company.parsed.data.id in [record.id for record in listed.parsed.data]
    assert listed.parsed.meta.total >= 1

    # 5. A read-only token cannot write (403); bad input names the field (422).
    read_only = generated.call(
        anonymous,
        "POST",
        "/api/v1/tokens",
        {
            "email": email,
            "password": password,
            "device_name": "ro",
            "abilities": ["companies:read"],
        },
    )
    refused = generated.call(
        generated.client(read_only.parsed.token), "POST", "/api/v1/companies", {"name": "Nope"}
    )
    assert refused.status_code == 403
    invalid = generated.call(me, "POST", "/api/v1/companies", {"name": ""})
    assert invalid.status_code == 422
    assert "name" in invalid.parsed.errors.to_dict()

    # 6. Bill someone: 40 h at 150.00 with 20 % tax.
    invoicer = generated.call(
        me,
        "POST",
        "/api/v1/invoicers",
        {"company_entity": "Acme Ltd", "currency": "USD", "tax_rate": 20},
    )
    assert invoicer.status_code == 201, invoicer.content
    customer = generated.call(
        me,
        "POST",
        "/api/v1/customers",
        {"company_name": "Client Corp", "email": "ap@client.example"},
    )
    assert customer.status_code == 201, customer.content
    created = generated.call(
        me,
        "POST",
        "/api/v1/invoices",
        {
            "invoicer_id": invoicer.parsed.data.id,
            "customer_id": customer.parsed.data.id,
            "items": [{"description": "Web development", "quantity": 40, "unit_price": 150}],
        },
    )
    assert created.status_code == 201, created.content
    invoice = created.parsed.data
    assert (invoice.status, Decimal(invoice.total)) == ("draft", Decimal("7200.00"))
    assert (Decimal(invoice.subtotal), Decimal(invoice.tax)) == (Decimal(6000), Decimal(1200))

    approved = generated.call(me, "POST", "/api/v1/invoices/{id}/approve", id=invoice.id)
    assert approved.status_code == 200, approved.content
    assert approved.parsed.data.status == "approved"
    paid = generated.call(
        me,
        "POST",
        "/api/v1/invoices/{id}/pay",
        {"amount": "7200.00", "payment_method": "bank_transfer"},
        id=invoice.id,
    )
    assert paid.status_code == 200, paid.content
    assert paid.parsed.data.status == "paid"
    assert Decimal(paid.parsed.data.balance_due) == 0
    paid_list = generated.call(me, "GET", "/api/v1/invoices", status="paid")
    assert [record.id for record in paid_list.parsed.data] == [invoice.id]

    # The PDF: a signed link that needs no token.
    link = generated.call(me, "GET", "/api/v1/invoices/{id}/download", id=invoice.id)
    assert link.status_code == 200, link.content
    pdf = requests.get(link.parsed.data.download_url, timeout=30)
    assert pdf.content.startswith(b"%PDF")

    # 6b. A credit note of 10 hours, issued by approving it: the invoice was paid, so what it
    # credits becomes the customer's credit. Then one transfer settles a second invoice and
    # leaves the rest as credit.
    drafted = generated.call(
        me,
        "POST",
        "/api/v1/invoices/{id}/credit-notes",
        {
            "reason": "10 hours not delivered",
            "items": [{"description": "Web development", "quantity": 10, "unit_price": 150}],
        },
        id=invoice.id,
    )
    assert drafted.status_code == 201, drafted.content
    note = drafted.parsed.data
    assert (note.type_, note.label, Decimal(note.total)) == ("credit_note", "CN-0001", 1800)
    issued_note = generated.call(me, "POST", "/api/v1/invoices/{id}/approve", id=note.id)
    assert issued_note.status_code == 200, issued_note.content
    second = generated.call(
        me,
        "POST",
        "/api/v1/invoices",
        {
            "invoicer_id": invoicer.parsed.data.id,
            "customer_id": customer.parsed.data.id,
            "items": [{"description": "Web development", "quantity": 40, "unit_price": 150}],
        },
    )
    assert second.status_code == 201, second.content
    generated.call(me, "POST", "/api/v1/invoices/{id}/approve", id=second.parsed.data.id)
    received = generated.call(
        me,
        "POST",
        "/api/v1/payments",
        {
            "customer_id": customer.parsed.data.id,
            "amount": "8000.00",
            "currency": "USD",
            "payment_method": "bank_transfer",
            "allocations": [{"invoice_id": second.parsed.data.id, "amount": "7200.00"}],
        },
    )
    assert received.status_code == 201, received.content
    assert Decimal(received.parsed.data.unallocated) == 800
    balance = generated.call(
        me, "GET", "/api/v1/customers/{id}/balance", id=customer.parsed.data.id
    )
    assert balance.status_code == 200, balance.content
    [usd] = balance.parsed.data.balances
    assert (usd.currency, Decimal(usd.credit_available)) == ("USD", Decimal("2600.00"))
    shown = generated.call(me, "GET", "/api/v1/invoices/{id}", id=second.parsed.data.id)
    assert shown.parsed.data.status == "paid"

    # 7. Log out: the token is refused on the very next request.
    assert generated.call(me, "POST", "/api/v1/logout").status_code in (200, 204)
    assert generated.call(me, "GET", "/api/v1/me").status_code == 401
