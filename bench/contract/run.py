"""Schemathesis over the whole public API of a compose stack, with many cases per operation.

    uv run python bench/contract/run.py                      # its own stack, then torn down
    uv run python bench/contract/run.py --max-examples 100 --coverage --stateful
    uv run python bench/contract/run.py --env-file stack.env # a stack already up (compose env)

The same harness as `tests/test_contract_stack.py` (seeded ids, spare records for what is
destroyed, every check on), but without a time budget: the stack it starts raises the
authenticated rate limit so that cases are never answered 429. Prints the figures, then every
finding with a curl that reproduces it; exits 1 when a contract check failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
import schemathesis

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.contract_harness import (  # noqa: E402
    PER_MINUTE,
    authenticate,
    base_url_of,
    contract_config,
    pin_body_references,
    run,
    token_pool,
)
from tests.contract_seeds import (  # noqa: E402
    Api,
    all_emails,
    create_users_command,
    new_emails,
    seed,
)

PROJECT = "contract-bench"
PORT = 18490
LIMITS = (
    "RATE_LIMIT_DEFAULT=1000000\nRATE_LIMIT_UNAUTHENTICATED=1000000\nRATE_LIMIT_LOGIN=1000000\n"
    "RATE_LIMIT_PUBLIC=1000000\nRATE_LIMIT_FILES=1000000\nRATE_LIMIT_REGENERATE=1000000\n"
)


def compose(env_file: Path, *args: str, timeout: float = 600) -> None:
    subprocess.run(
        ["docker", "compose", "--env-file", str(env_file), *args],
        cwd=ROOT,
        check=True,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
    )


def env_value(env_file: Path, name: str) -> str:
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip()
    raise SystemExit(f"{name} missing from {env_file}")


def pace(env_file: Path) -> int | None:
    """Requests per admin token a minute: none when the stack's limit is out of reach."""
    try:
        limit = int(env_value(env_file, "RATE_LIMIT_DEFAULT"))
    except SystemExit:
        return PER_MINUTE  # compose's default, 60
    return None if limit >= 100_000 else max(1, limit - 5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, help="compose env file of a running stack")
    parser.add_argument("--max-examples", type=int, default=50, help="per operation and phase")
    parser.add_argument("--coverage", action="store_true", help="also the coverage phase")
    parser.add_argument("--stateful", action="store_true", help="also the stateful phase")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--admins", type=int, default=4, help="users the cases are spread over")
    parser.add_argument("--verbose", action="store_true", help="statuses per operation")
    args = parser.parse_args()

    own_stack = args.env_file is None
    env_file = args.env_file or Path(tempfile.mkdtemp()) / "contract.env"
    if own_stack:
        env_file.write_text(
            f"COMPOSE_PROJECT_NAME={PROJECT}\nGATEWAY_PORT={PORT}\n"
            f"PUBLIC_BASE_URL=http://127.0.0.1:{PORT}\n{LIMITS}"
        )
        compose(env_file, "up", "-d", "--build", "--wait")
    try:
        gateway = f"http://127.0.0.1:{env_value(env_file, 'GATEWAY_PORT')}"
        emails = new_emails(args.admins)
        compose(env_file, *create_users_command(all_emails(emails)))
        seeds = seed(Api(gateway), emails)
        document = requests.get(f"{gateway}/api/v1/openapi.json", timeout=30).json()
        config = contract_config(
            base_url_of(document, gateway),
            document,
            seeds.records,
            max_examples=args.max_examples,
            coverage=args.coverage,
            stateful=args.stateful,
            seed=args.seed,
            workers=args.workers,
        )
        schema = schemathesis.openapi.from_dict(document, config=config)
        authenticate(schema, token_pool(seeds, pace(env_file)))
        pin_body_references(schema, seeds.records)
        figures = run(schema)
    finally:
        if own_stack and os.environ.get("KEEP_STACK") != "1":
            compose(env_file, "down", "-v")
    if args.verbose:
        print(figures.reach())
    print(figures.details())
    print()
    print(figures.summary())
    return 1 if figures.breaking or figures.errors else 0


if __name__ == "__main__":
    sys.exit(main())
