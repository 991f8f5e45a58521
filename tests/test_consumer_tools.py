"""The public document through the tools its consumers use, at pinned versions
(tests/consumers/package.json and its lock): openapi-typescript with its default options
generates the types a TypeScript client compiles against, and `tsc --strict` accepts the
README's walkthrough written with them (tests/consumers/walkthrough.ts); Spectral's OpenAPI
ruleset finds neither an error nor a warning.

The document is the committed snapshot, docs/openapi.json (gateway/tests/test_openapi.py
proves it is what the gateway serves). The npm packages are installed once per lock file into
a cache directory (CONSUMER_TOOLS_CACHE, default ~/.cache/invoicing-consumer-tools)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONSUMERS = ROOT / "tests" / "consumers"
DOCUMENT = ROOT / "docs" / "openapi.json"
CACHE = Path(
    os.environ.get("CONSUMER_TOOLS_CACHE", Path.home() / ".cache" / "invoicing-consumer-tools")
)
SEVERITY = {0: "error", 1: "warning", 2: "info", 3: "hint"}


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def tools() -> Path:
    """The pinned packages' executables (node_modules/.bin), installed by `npm ci` once."""
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "node and npm are needed (.ci/run installs them)"
    lock = (CONSUMERS / "package-lock.json").read_bytes()
    home = CACHE / hashlib.sha256(lock).hexdigest()[:16]
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # one install, whichever worker comes first
        if not (home / ".installed").exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copy(CONSUMERS / name, home / name)
            done = _run(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", cwd=home)
            assert done.returncode == 0, done.stderr[-3000:]
            (home / ".installed").touch()
    return home / "node_modules" / ".bin"


def test_the_walkthrough_type_checks_against_the_generated_types(tools, tmp_path):
    for name in ("walkthrough.ts", "tsconfig.json"):
        shutil.copy(CONSUMERS / name, tmp_path / name)
    generated = _run(
        tools / "openapi-typescript", DOCUMENT, "-o", tmp_path / "api.d.ts", cwd=tmp_path
    )
    assert generated.returncode == 0, generated.stderr[-3000:]
    checked = _run(tools / "tsc", "--strict", "-p", tmp_path, cwd=tmp_path)
    errors = [line for line in checked.stdout.splitlines() if ": error TS" in line]
    assert checked.returncode == 0 and not errors, "\n".join(errors) or checked.stdout[-3000:]


def test_spectral_oas_ruleset_finds_no_error_or_warning(tools, tmp_path):
    report = tmp_path / "spectral.json"
    _run(
        tools / "spectral",
        "lint",
        DOCUMENT,
        "--ruleset",
        CONSUMERS / ".spectral.yaml",
        "--format",
        "json",
        "--output",
        report,
        "--fail-severity",
        "warn",
        cwd=tmp_path,
    )
    findings = json.loads(report.read_text())
    serious = [f for f in findings if f["severity"] <= 1]
    counts = Counter((SEVERITY[f["severity"]], f["code"]) for f in serious)
    assert not serious, (counts, [(f["code"], f["path"], f["message"]) for f in serious[:20]])
