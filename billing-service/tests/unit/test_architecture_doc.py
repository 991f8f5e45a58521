"""docs/architecture.md against the code: its lists of billing's tables, of the metric series,
of billing's background loops and of billing's domain folders are the ones the code has (the
doc drifted before: a test keeps it from drifting again)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from billing_service.app import _enabled_loops
from billing_service.platform.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "architecture.md").read_text()
BILLING = ROOT / "billing-service" / "src" / "billing_service"
# The metric classes, and the families a collector of ours builds at scrape time (shared/web.py).
METRIC_TYPES = {
    "Counter",
    "Gauge",
    "Histogram",
    "Summary",
    "CounterMetricFamily",
    "HistogramMetricFamily",
}


def _names(text: str) -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", text))


def _line(startswith: str) -> str:
    [line] = [line for line in DOC.splitlines() if line.startswith(startswith)]
    return line


def test_the_data_store_table_lists_every_billing_table() -> None:
    migrations = "\n".join(
        path.read_text() for path in sorted((ROOT / "billing-service" / "migrations").glob("*.sql"))
    )
    created = set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", migrations, re.I))
    dropped = set(re.findall(r"DROP TABLE (?:IF EXISTS )?(\w+)", migrations, re.I))
    assert len(created) > 20  # the migrations were read
    documented = _names(_line("| PostgreSQL `billing` |").removeprefix("| PostgreSQL `billing` |"))
    assert documented == created - dropped


def _declared_series() -> dict[str, set[str]]:
    """Every metric the services register, by its exposed name, with its labels."""
    series: dict[str, set[str]] = {}
    for path in ROOT.glob("*/src/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in METRIC_TYPES
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                continue
            name = node.args[0].value
            if node.func.id == "Counter" and not name.endswith("_total"):
                name += "_total"  # as prometheus_client exposes a counter
            labels = node.args[2] if len(node.args) > 2 else _keyword(node, "labels")
            values = labels.elts if isinstance(labels, ast.List | ast.Tuple) else []
            series[name] = {value.value for value in values if isinstance(value, ast.Constant)}
    return series


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def test_the_metrics_list_names_every_series_with_its_labels() -> None:
    start = DOC.index("- **`/metrics`**")
    bullet = DOC[start : DOC.index("\n- **", start + 1)]
    documented = {
        name: set(labels.split(",")) if labels else set()
        for name, labels in re.findall(r"`([a-z_]+)(?:\{([a-z_,]+)\})?`", bullet)
        if name.endswith(("_total", "_seconds"))
    }
    declared = _declared_series()
    assert len(declared) >= 10  # the sources were read
    assert documented == declared


def test_the_loops_section_names_every_loop_the_service_runs() -> None:
    section = DOC[DOC.index("## Billing's background loops") :]
    named = _names(section[: section.index(")")])
    assert named == set(_enabled_loops(Settings())) == {"scheduler", "mailer", "webhooks"}


def test_the_domain_table_names_every_domain_folder() -> None:
    section = DOC[DOC.index("## Billing-service by domain") :]
    rows = re.findall(r"^\| `(\w+)` \|", section[: section.index("\n\n", section.index("|"))], re.M)
    folders = {path.parent.name for path in BILLING.glob("*/__init__.py")}
    assert len(rows) == len(set(rows))
    assert set(rows) == folders
