"""Backups that restore: data made through the API, scripts/backup, the stack destroyed with its
volumes, scripts/restore into a new one, and the API answers the same (same token too).

Runs its own compose project (STACK_PROJECT-backup), never the shared `stack` fixture's: it
destroys its stack half-way."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import PROJECT, ROOT, _free_port

pytestmark = pytest.mark.stack


class BackupStack:
    def __init__(self, env_file: Path, base_url: str) -> None:
        self.env_file, self.base_url = env_file, base_url
        self.project = f"{PROJECT}-backup"

    def compose(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run(
            ["docker", "compose", "--env-file", str(self.env_file), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout

    def script(self, name: str, *args: str) -> None:
        subprocess.run([str(ROOT / "scripts" / name), *args], check=True, timeout=300)

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = path if path.startswith("http") else self.base_url + path
        answer = requests.request(method, url, headers=headers, json=body, timeout=30)
        kind = answer.headers.get("Content-Type", "")
        return answer.status_code, answer.json() if kind.startswith(
            "application/json"
        ) else answer.content


@pytest.fixture(scope="module")
def backup_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackupStack]:
    port = _free_port()
    env_file = tmp_path_factory.mktemp("backup-stack") / "stack.env"
    env_file.write_text(
        f"COMPOSE_PROJECT_NAME={PROJECT}-backup\n"
        f"GATEWAY_PORT={port}\n"
        "RATE_LIMIT_UNAUTHENTICATED=100000\nRATE_LIMIT_LOGIN=100000\n"
        f"PUBLIC_BASE_URL=http://127.0.0.1:{port}\n"
    )
    stack = BackupStack(env_file, f"http://127.0.0.1:{port}")
    try:
        stack.compose("up", "--build", "--detach", "--wait")
        yield stack
    finally:
        if os.environ.get("KEEP_STACK") != "1":
            stack.compose("down", "--volumes", "--remove-orphans")


def expect(answer: tuple[int, Any], status: int) -> Any:
    assert answer[0] == status, answer
    return answer[1]


def make_data(stack: BackupStack) -> tuple[str, int]:
    email, password = f"backup-{uuid.uuid4().hex[:8]}@example.com", "backup-password-1"
    stack.compose(
        "exec", "-T", "auth-service", "python", "-m", "auth_service", "create-user",
        "--email", email, "--password", password, "--name", "Backup User",
    )  # fmt: skip
    login = {"email": email, "password": password, "device_name": "backup"}
    token = expect(stack.call("POST", "/api/v1/tokens", None, login), 201)["token"]
    invoicer = {"company_entity": "Acme Ltd", "currency": "USD", "tax_rate": 20}
    invoicer_id = expect(stack.call("POST", "/api/v1/invoicers", token, invoicer), 201)
    customer = {"company_name": "Client Corp", "email": "ap@client.example"}
    customer_id = expect(stack.call("POST", "/api/v1/customers", token, customer), 201)
    invoice = {
        "invoicer_id": invoicer_id["data"]["id"],
        "customer_id": customer_id["data"]["id"],
        "items": [{"description": "Web development", "quantity": 40, "unit_price": 150}],
    }
    invoice_id = expect(stack.call("POST", "/api/v1/invoices", token, invoice), 201)["data"]["id"]
    expect(stack.call("POST", f"/api/v1/invoices/{invoice_id}/approve", token, {}), 200)
    payment = {"amount": "1000.00", "payment_method": "bank_transfer"}
    expect(stack.call("POST", f"/api/v1/invoices/{invoice_id}/pay", token, payment), 200)
    return token, invoice_id


def what_the_api_answers(stack: BackupStack, token: str, invoice_id: int) -> dict[str, Any]:
    invoice = expect(stack.call("GET", f"/api/v1/invoices/{invoice_id}", token), 200)["data"]
    link = expect(stack.call("GET", f"/api/v1/invoices/{invoice_id}/download", token), 200)
    pdf = expect(stack.call("GET", link["data"]["download_url"]), 200)
    assert pdf.startswith(b"%PDF")
    me = expect(stack.call("GET", "/api/v1/me", token), 200)
    listed = expect(stack.call("GET", "/api/v1/invoices", token), 200)["data"]
    return {
        "invoice": json.dumps(invoice, sort_keys=True),
        "invoices": [row["id"] for row in listed],
        "me": json.dumps(me, sort_keys=True),
        "pdf": pdf,
    }


def test_a_backup_restores_into_a_new_stack(backup_stack: BackupStack, tmp_path: Path) -> None:
    token, invoice_id = make_data(backup_stack)
    before = what_the_api_answers(backup_stack, token, invoice_id)

    backup_stack.script("backup", "--compose", backup_stack.project, str(tmp_path))
    dumps = sorted(path.name.split("-")[0] for path in tmp_path.glob("*.dump"))
    assert dumps == ["auth", "billing", "pdf"]

    backup_stack.compose("down", "--volumes")  # the stack and its data are gone
    backup_stack.compose("up", "--detach", "--wait", "postgres")
    backup_stack.script("restore", "--compose", backup_stack.project, str(tmp_path))
    backup_stack.compose("up", "--detach", "--wait")

    after = what_the_api_answers(backup_stack, token, invoice_id)  # the same token works
    assert after == before
