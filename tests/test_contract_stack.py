"""Schemathesis against the stack: every operation of `/api/v1/openapi.json`, every check.

A bounded run for CI (a few hundred cases, fixed seed); `bench/contract/run.py` is the long
one. Path ids are records seeded first (see contract_harness), so cases reach the handlers.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis

from tests.contract_harness import (
    PER_MINUTE,
    Figures,
    authenticate,
    base_url_of,
    contract_config,
    labels,
    pin_body_references,
    run,
    token_pool,
)
from tests.contract_seeds import Api, all_emails, create_users_command, new_emails, seed

pytestmark = pytest.mark.stack

ADMINS = 5  # 275 paced requests a minute
# Per operation, generation mode and phase. With 2, the fixed seed drew only negative cases
# (a missing or mangled Authorization) for some operations once the document grew: 3 reaches
# every operation's handler with a valid token; 5 leaves room for filters the generator
# fills with values the API refuses (422).
MAX_EXAMPLES = 5
SEED = 10


@pytest.fixture(scope="module")
def contract_run(stack) -> tuple[dict, Figures]:
    emails = new_emails(ADMINS)
    stack.compose_command(*create_users_command(all_emails(emails)), timeout=300)
    seeds = seed(Api(stack.base_url), emails)
    document = requests.get(f"{stack.base_url}/api/v1/openapi.json", timeout=30).json()
    config = contract_config(
        base_url_of(document, stack.base_url),
        document,
        seeds.records,
        max_examples=MAX_EXAMPLES,
        coverage=False,
        stateful=False,
        seed=SEED,
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    authenticate(schema, token_pool(seeds, PER_MINUTE))
    pin_body_references(schema, seeds.records)
    figures = run(schema)
    print(figures.summary())
    return document, figures


def test_every_operation_is_tested(contract_run):
    document, figures = contract_run
    expected = {f"{method} {path}" for method, path in labels(document)}
    assert not figures.errors, figures.details([])
    assert expected <= figures.operations, sorted(expected - figures.operations)


def test_no_server_error(contract_run):
    _, figures = contract_run
    assert not figures.server_errors, figures.details(figures.server_errors)
    assert not [status for status in figures.statuses if status >= 500], figures.statuses


def test_answers_conform_to_their_schemas(contract_run):
    _, figures = contract_run
    assert not figures.schema_violations, figures.details(figures.schema_violations)


def test_no_undocumented_status(contract_run):
    _, figures = contract_run
    assert not figures.undocumented_statuses, figures.details(figures.undocumented_statuses)


def test_the_schema_says_what_the_server_accepts(contract_run):
    """positive_data_acceptance (a request the schema allows is not refused) and
    negative_data_rejection (one it forbids is not accepted)."""
    _, figures = contract_run
    assert not figures.data_mismatches, figures.details(figures.data_mismatches)


def test_no_other_check_fails(contract_run):
    """ignored_auth, missing_required_header, use_after_free...: every other check."""
    _, figures = contract_run
    assert not figures.breaking, figures.details(figures.breaking)


def test_seeded_ids_reach_the_handlers(contract_run):
    """Every read answered a success at least once: the ids are real records, and the pacing
    kept every case under the rate limit."""
    document, figures = contract_run
    assert figures.throttled == 0, figures.reach()
    reads = [f"GET {path}" for method, path in labels(document) if method == "GET"]
    unreached = [
        label
        for label in reads
        if not any(200 <= status < 300 for status in figures.by_operation.get(label, {}))
    ]
    assert not unreached, figures.reach()
