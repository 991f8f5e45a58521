"""docs/api.md's "Export and import" against the code: every export's columns in order, and
every column name an import reads, are the documented ones (and no two fields share one)."""

from __future__ import annotations

import re
from pathlib import Path

from billing_service.exchange.schemas import CUSTOMER_COLUMNS, PRODUCT_COLUMNS, column_key
from billing_service.exchange.views import EXPORT_COLUMNS

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "api.md").read_text()
SECTION = DOC.split("## Export and import", 1)[1].split("\n## ", 1)[0]


def _row(startswith: str) -> list[str]:
    [line] = [line for line in SECTION.splitlines() if line.startswith(startswith)]
    return re.findall(r"`([^`]+)`", line.split("|")[-2])


def test_each_exports_columns_are_documented_in_order() -> None:
    for kind, columns in EXPORT_COLUMNS.items():
        assert tuple(_row(f"| `{kind}` |")) == columns, kind


def test_every_import_column_name_is_documented_under_its_field() -> None:
    for kind, table in (("customers", CUSTOMER_COLUMNS), ("products", PRODUCT_COLUMNS)):
        documented: dict[str, str] = {}
        for field in set(table.values()):
            names = _row(f"| {kind}: `{field}` |")
            documented |= {column_key(name): field for name in [field, *names]}
        assert documented == table, kind


def test_an_import_reads_the_exports_own_columns() -> None:
    for kind, table in (("customers", CUSTOMER_COLUMNS), ("products", PRODUCT_COLUMNS)):
        readable = {c for c in EXPORT_COLUMNS[kind] if c not in ("id", "created_at")}
        assert {column_key(c) for c in readable} <= set(table), kind
