"""PDF rendering: our ReportLab renderer (one process and the pool) against WeasyPrint
rendering the same invoice as HTML (the public page's template), side by side in one run.
Then the latency of a stored PDF download through the gateway (compose stack).

    uv run --with weasyprint python bench/pdf/run.py   # WeasyPrint needs Debian's libpango

Prints a markdown report and writes bench/out/pdf.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import jinja2

from pdf_service.render import configure_reportlab, render_invoice, render_pool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wrk import parse_wrk

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
TEMPLATES = ROOT / "billing-service" / "src" / "billing_service" / "templates"


def snapshot(lines: int) -> dict[str, Any]:
    return {
        "label": "INV-0042",
        "title": "Invoice",
        "status": "Approved",
        "currency": "EUR",
        "issue_date": "1 June 2025",
        "due_date": "30 June 2025",
        "period": "1 May 2025 – 31 May 2025",
        "invoicer": {
            "name": "Acme GmbH",
            "address": "Hauptstraße 1\n10115 Berlin",
            "tax_number": "DE123456789",
            "registration_number": "HRB 12345",
        },
        "recipient": {
            "name": "Ködmön Kft.",
            "contact": "Łukasz Żółć",
            "address": "Fő utca 1\n1011 Budapest",
            "email": "ap@client.example",
            "tax_number": "HU12345678",
        },
        "items": [
            {
                "label": f"Web development – sprint {n}",
                "quantity": "40",
                "unit": "hour",
                "price": "€150.00",
                "discount": "10%",
                "tax": "19%",
                "total": "€5,400.00",
            }
            for n in range(1, lines + 1)
        ],
        "totals": {
            "subtotal": "€16,200.00",
            "tax": "€3,078.00",
            "total": "€19,278.00",
            "amount_paid": "€0.00",
            "balance_due": "€19,278.00",
        },
        "payment_details": {
            "bank_name": "First Bank",
            "account_name": "Acme GmbH",
            "account_number": None,
            "iban": "DE89 3704 0044 0532 0130 00",
            "swift": "COBADEFFXXX",
        },
        "notes": "Thank you for your business! Köszönjük — Дякуємо",
    }


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


def rate(render: Any, doc: dict[str, Any], seconds: float = 3.0) -> float:
    render(doc)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        render(doc)
        count += 1
    return count / (time.perf_counter() - started)


def pool_rate(doc: dict[str, Any], workers: int, total: int) -> float:
    with render_pool(workers) as pool:
        list(pool.map(render_invoice, [doc] * workers))  # start and warm every worker
        started = time.perf_counter()
        list(pool.map(render_invoice, [doc] * total, chunksize=16))
        return total / (time.perf_counter() - started)


def weasy(doc: dict[str, Any]) -> bytes:
    import weasyprint

    html = (
        jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
        .get_template("invoice.html")
        .render(doc=doc, download_url=None, lang="en")
    )
    return weasyprint.HTML(string=html).write_pdf()


def gateway_download() -> dict[str, float] | None:
    port = 18091
    env = os.environ | {
        "COMPOSE_PROJECT_NAME": "invoicing-pdfbench",
        "GATEWAY_PORT": str(port),
        "RATE_LIMIT_UNAUTHENTICATED": "1000000000",
        "RATE_LIMIT_FILES": "1000000000",
        "RATE_LIMIT_DEFAULT": "1000000000",
    }
    compose = ["docker", "compose", "-f", str(ROOT / "docker-compose.yml")]
    subprocess.run(
        [*compose, "up", "-d", "--build", "--wait"],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"

        def call(method: str, path: str, token: str | None = None, body: Any = None) -> Any:
            headers = {"Content-Type": "application/json"} | (
                {"Authorization": f"Bearer {token}"} if token else {}
            )
            request = urllib.request.Request(
                base + path,
                method=method,
                headers=headers,
                data=json.dumps(body).encode() if body is not None else None,
            )
            return json.load(urllib.request.urlopen(request, timeout=30))

        token = call(
            "POST",
            "/login",
            body={"email": "demo@example.com", "password": "demo-password", "device_name": "bench"},
        )["token"]
        call("POST", "/companies", token, {"name": "Bench"})
        customer = call("POST", "/customers", token, {"company_name": "Client", "currency": "EUR"})[
            "data"
        ]["id"]
        invoice = call(
            "POST",
            "/invoices",
            token,
            {
                "customer_id": customer,
                "items": [{"description": "Work", "quantity": 1, "unit_price": 100}],
            },
        )["data"]["id"]
        call("POST", f"/invoices/{invoice}/approve", token, {})
        url = call("GET", f"/invoices/{invoice}/download", token)["data"]["download_url"]
        done = subprocess.run(
            ["wrk", "-t1", "-c8", "-d10s", "--latency", url],
            capture_output=True,
            text=True,
            check=True,
        )
        return parse_wrk(done.stdout)
    finally:
        subprocess.run([*compose, "down", "-v", "-t", "2"], env=env, capture_output=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    configure_reportlab()  # the in-process renders below; the pool's workers do their own
    one, ten = snapshot(3), snapshot(330)
    assert pages(render_invoice(one)) == 1 and pages(render_invoice(ten)) == 10
    report: dict[str, Any] = {
        "pages": {"one": pages(weasy(one)), "ten_weasyprint": pages(weasy(ten))}
    }
    for name, doc in (("one-page", one), ("ten-page", ten)):
        ours = rate(render_invoice, doc)
        theirs = rate(weasy, doc, seconds=6.0)
        pooled = pool_rate(doc, workers=os.cpu_count() or 2, total=int(ours * 4) or 8)
        report[name] = {
            "reportlab_per_s": ours,
            "reportlab_ms": 1000 / ours,
            "pool_per_s": pooled,
            "weasyprint_per_s": theirs,
            "weasyprint_ms": 1000 / theirs,
        }
    report["download"] = None if os.environ.get("SKIP_STACK") == "1" else gateway_download()
    (OUT / "pdf.json").write_text(json.dumps(report, indent=2))
    lines = [
        "| invoice | ReportLab, 1 process | ReportLab, pool | WeasyPrint | ReportLab / WeasyPrint | pool / 1 process |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("one-page", "ten-page"):
        r = report[name]
        lines.append(
            f"| {name} | {r['reportlab_per_s']:.0f}/s ({r['reportlab_ms']:.1f} ms) | {r['pool_per_s']:.0f}/s | "
            f"{r['weasyprint_per_s']:.1f}/s ({r['weasyprint_ms']:.0f} ms) | "
            f"**{r['reportlab_per_s'] / r['weasyprint_per_s']:.0f}x** | {r['pool_per_s'] / r['reportlab_per_s']:.2f}x |"
        )
    if report["download"]:
        d = report["download"]
        lines.append(
            f"\nStored PDF through the gateway (`/files/...`, 8 clients): {d['rps']:.0f} req/s, "
            f"p50 {d['p50_ms']:.2f} ms, p99 {d['p99_ms']:.2f} ms"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
