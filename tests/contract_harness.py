"""Schemathesis against a running stack: seeded records, a pool of tokens, counted findings.

Shared by `tests/test_contract_stack.py` (a bounded run in CI) and `bench/contract/run.py`
(the long run). It works against whatever `GET /api/v1/openapi.json` serves: paths written
whole (`/api/v1/invoices/{id}`) or under a relative server URL (`/invoices/{id}` below
`/api/v1`).

Generated requests reach the handlers because every path parameter is pinned to a record the
harness created first; in the valid (positive) cases, so are the ids a body or query names,
and e-mails and slugs are made unused, so that a refusal of one is the schema's fault. The
few refusals no schema can foresee (credentials, an e-invoice's content, a made-up cursor)
are named per operation (STATE_REFUSALS). Operations that destroy what they touch (DELETE, logout, revoking a
token) get spare records and a token of their own, so the rest of the run keeps its fixtures.
The gateway limits each user to 60 authenticated requests a minute; the run spreads its cases
over a pool of company admins and paces each admin's token to `PER_MINUTE` requests in any 60
seconds (users are expensive to create: a password hash each), so no case is answered 429
however fast the machine is.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import schemathesis
from schemathesis import engine
from schemathesis.engine import events

from tests.contract_seeds import Seeds

PER_MINUTE = 55  # under the gateway's default 60 a minute per user
# A schema-valid request the service refused, a schema-invalid one it accepted: the document
# does not say what the server does.
DATA_CHECKS = frozenset({"positive_data_acceptance", "negative_data_rejection"})
SERVER_ERROR_CHECKS = frozenset({"not_a_server_error"})
SCHEMA_CHECKS = frozenset(
    {"response_schema_conformance", "content_type_conformance", "response_headers_conformance"}
)
STATUS_CHECKS = frozenset(
    {"status_code_conformance", "unsupported_method", "allow_header_conformance"}
)
_PARAMETER = re.compile(r"\{(\w+)\}")
# The path segment before a parameter names the record it is the id of.
RECORD_OF_SEGMENT = {
    "companies": "company",
    "teams": "company",
    "members": "member",
    "organisations": "organisation",
    "invoicers": "invoicer",
    "payment-details": "payment_detail",
    "recipients": "recipient",
    "customers": "customer",
    "buyers": "buyer",
    "products": "product",
    "invoices": "invoice",
    "quotes": "quote",
    "estimates": "quote",
    "tokens": "token",
    "i": "public_id",
    "files": "document",
    "webhooks": "webhook",
    "deliveries": "delivery",
    "events": "event",
}
# Invoice actions that only make sense on a record in another state than a fresh draft.
RECORD_FOR_ACTION = {
    "create-next": "recurring",
    "download": "approved",
    "pay": "approved",
    "send-payment-link": "approved",
    "regenerate-pdf": "approved",
    "decline": "quote",
    "convert": "quote",
}
# Body fields naming a record, pinned to the seeded one as path ids are: a schema-valid body
# then meets the rules the schema states, not "the selected ... is invalid" (422) for an id
# that names nothing. (The seeded company's invoicers change under the run, a case may unset
# the default: a create then names its invoicer, which the API requires of such a company.)
BODY_REFERENCES = {
    "company_id": "company",
    "team_id": "company",
    "organisation_id": "organisation",
    "invoicer_id": "invoicer",
    "invoicer_payment_detail_id": "payment_detail",
    "invoice_recipient_id": "recipient",
    "customer_id": "customer",
    "product_id": "product",
    "member_id": "member",
    "invoice_parent_id": "recurring",
}
# Query filters naming a record, and the event `since` names.
QUERY_REFERENCES = BODY_REFERENCES | {"since": "event"}
# A reference a list may name once only (an invoice's members): the pinned duplicates go.
LISTED_ONCE = frozenset({"member_id"})
# Values the schema can only shape, not enumerate: a timezone is one the zone database holds.
PINNED_VALUES = {"timezone": "Europe/Berlin"}
# Values that must be unused (an e-mail, a slug): made unique per case.
UNIQUE_FIELDS = frozenset({"email", "slug", "label", "invoice_number"})
# What an update may send only as the record holds it: a type (the seeded product's, an
# invoice's, a quote's), an invoice's currency without its items (the seeds bill in USD).
KEPT_ON_UPDATE = {
    re.compile(r"^(PUT|PATCH) .*/products/\{\w+\}$"): {"type": "product"},
    re.compile(r"^(PUT|PATCH) .*/invoices/\{\w+\}$"): {"type": "invoice", "currency": "USD"},
    re.compile(r"^(PUT|PATCH) .*/(quotes|estimates)/\{\w+\}$"): {
        "type": "quote",
        "currency": "USD",
    },
}
CREATES_AN_INVOICE = re.compile(r"^POST .*/(invoices|quotes|estimates)$")
# Where a schema-valid request is refused for what the records hold, or by a rule across
# fields no schema states: the status the API gives then, and why.
STATE_REFUSALS = {
    "POST /api/v1/tokens": (422, "the credentials are checked against the accounts"),
    "POST /api/v1/login": (422, "the credentials are checked against the accounts"),
    "POST /api/v1/companies/{id}/members": (422, "an account with that e-mail, not a member"),
    "GET /api/v1/invoices/{id}/einvoice": (422, "whether the invoice holds what the format needs"),
    "POST /api/v1/products/{id}/adjust-stock": (422, "the stock held: it cannot go below zero"),
    "POST /api/v1/payments": (422, "amounts in the currency's minor units, allocations within"),
    "PUT /api/v1/invoicers/{id}/logo": (422, "whether the bytes decode as a PNG or JPEG image"),
    "PUT /api/v1/companies/{id}/reminders": (
        422,
        "rules across steps: days strictly increase, only the last repeats, a fee is one kind",
    ),
    # Customer statements (issue 21c): `from` on or before `to`, at most 366 days apart.
    "GET /api/v1/customers/{id}/statement": (422, "from before to, at most 366 days apart"),
    "POST /api/v1/customers/{id}/statement/send": (422, "from before to, at most 366 days apart"),
    "GET /api/v1/reports/aging": (422, "as_of not after today in the company's timezone"),
    "GET /api/v1/reports/tax": (422, "to not before from, and at most 366 days after it"),
    "GET /api/v1/reports/revenue": (422, "to not before from, and at most 3653 days after it"),
    # Drawn once the document grew (issue 21d's operations moved the fixed seed's cases).
    "POST /api/v1/products": (422, "a service has no stock: stock_quantity needs type product"),
    "POST /api/v1/invoices/{id}/pay": (422, "the amount is at most the invoice's balance due"),
    **{
        f"GET /api/v1/exports/{kind}": (422, "a `to` before the `from` (a rule across fields)")
        for kind in ("invoices", "payments", "customers", "products")
    },
    **{
        f"POST /api/v1/imports/{kind}": (422, "whether the bytes are CSV rows of valid records")
        for kind in ("customers", "products")
    },
    **{
        label: (422, "whether the URL's host may be called: WEBHOOK_ALLOWED_NETWORKS, the DNS")
        for label in (
            "POST /api/v1/webhooks",
            "PUT /api/v1/webhooks/{id}",
            "PATCH /api/v1/webhooks/{id}",
        )
    },
}
CURSOR_REFUSAL = 400  # a cursor is one the API issued; any other is refused
OWNER_ONLY = re.compile(r"^DELETE .*/companies/\{\w+\}$")
REVOKES_CALLER = re.compile(r"^POST .*/logout$")
REVOKES_TOKEN = re.compile(r"^DELETE .*/tokens/\{\w+\}$")
# Limits of their own (one send per invoice a minute, regenerations per user), not the pool's.
OWN_LIMIT = re.compile(r"/(send|send-email|regenerate-pdf)$")


# --- the schemathesis run -----------------------------------------------------------------


def base_url_of(document: dict[str, Any], gateway: str) -> str:
    """Where the document's paths start: the gateway, or the server URL the document names."""
    servers = document.get("servers") or [{"url": "/"}]
    return urljoin(gateway + "/", servers[0]["url"]).rstrip("/")


def labels(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    for path, item in document.get("paths", {}).items():
        for method in item:
            if method in methods:
                yield method.upper(), path


def pinned_parameters(method: str, path: str, records: dict[str, Any]) -> dict[str, Any]:
    """The seeded value of each path parameter of one operation (spare records for the one a
    DELETE removes); parameters of unknown records are left to schemathesis."""
    segments = path.strip("/").split("/")
    names = _PARAMETER.findall(path)
    pinned: dict[str, Any] = {}
    for index, segment in enumerate(segments):
        match = _PARAMETER.fullmatch(segment)
        if match is None or index == 0:
            continue
        record = RECORD_OF_SEGMENT.get(segments[index - 1])
        action = segments[index + 1] if index + 1 < len(segments) else None
        if record in ("invoice", "quote") and action in RECORD_FOR_ACTION:
            record = RECORD_FOR_ACTION[action]
        if record is None:
            continue
        last = match.group(1) == names[-1] and action is None
        if method == "DELETE" and last and "spare_" + record in records:
            record = "spare_" + record
        pinned[f"path.{match.group(1)}"] = records[record]
        if record == "document":
            pinned |= {f"query.{key}": value for key, value in records["document_query"].items()}
    return pinned


def contract_config(
    base_url: str,
    document: dict[str, Any],
    records: dict[str, Any],
    *,
    max_examples: int,
    coverage: bool,
    stateful: bool,
    seed: int | None,
    workers: int = 1,
) -> schemathesis.Config:
    operations = []
    for method, path in labels(document):
        label = f"{method} {path}"
        operation: dict[str, Any] = {"include-name": label}
        pinned = pinned_parameters(method, path, records)
        if pinned:
            operation["parameters"] = pinned
        refused = _state_refusals(label, document["paths"][path][method.lower()])
        if refused:
            statuses = [*POSITIVE_STATUSES, *map(str, refused)]
            operation["checks"] = {"positive_data_acceptance": {"expected-statuses": statuses}}
        if len(operation) > 1:
            operations.append(operation)
    settings: dict[str, Any] = {
        "base-url": base_url,
        "workers": workers,
        "continue-on-failure": True,
        # No cache directory left in the checkout: each run starts from what it seeded.
        "cache": {"enabled": False},
        # Generation speed is the machine's load, not the API's: a busy CI runner made
        # hypothesis call an operation's data "too slow" and leave it untested.
        "suppress-health-check": ["too_slow"],
        "request-timeout": 30,
        # No NUL in generated text: every string of every body and query refuses it
        # (PostgreSQL cannot store one), which docs/api.md says once rather than each schema.
        "generation": {
            "max-examples": max_examples,
            "no-shrink": not stateful,
            "allow-x00": False,
        },
        "checks": {
            "enabled": True,
            "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": coverage},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": stateful},
        },
        "operations": operations,
        # Lists narrowed to a company the caller is not in are 403: narrow them to the run's.
        "parameters": {"query.company_id": records["company"]},
    }
    if seed is not None:
        settings["seed"] = seed
    return schemathesis.Config.from_dict(settings)


# Schemathesis's defaults, and 412: an If-Match the generator made up is not the record's
# ETag, a refusal for the record's state like 409's.
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]


def _state_refusals(label: str, operation: dict[str, Any]) -> list[int]:
    statuses = [STATE_REFUSALS[label][0]] if label in STATE_REFUSALS else []
    if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", ())):
        statuses.append(CURSOR_REFUSAL)
    return statuses


def pin_body_references(schema: Any, records: dict[str, Any]) -> None:
    """Valid generated bodies name the seeded records (BODY_REFERENCES) and unused e-mails
    and slugs (UNIQUE_FIELDS)."""
    counter = itertools.count()

    def pinned(value: Any) -> Any:
        if isinstance(value, list):
            return _listed_once([pinned(item) for item in value])
        if not isinstance(value, dict):
            return value
        result = {}
        for key, item in value.items():
            if key in BODY_REFERENCES and _is_number(item):
                result[key] = records[BODY_REFERENCES[key]]
            elif key in PINNED_VALUES and isinstance(item, str):
                result[key] = PINNED_VALUES[key]
            elif key in UNIQUE_FIELDS and isinstance(item, str) and item:
                result[key] = _unique(key, item, next(counter))
            else:
                result[key] = pinned(item)
        return result

    @schema.hook("map_case")
    def map_case(context: Any, case: Any) -> Any:
        mode = getattr(getattr(case.meta, "generation", None), "mode", None)
        if mode is not None and not mode.is_positive:
            return case  # an invalid request stays one
        label = case.operation.label
        if CREATES_AN_INVOICE.match(label) and not isinstance(case.body, dict):
            case.body, case.media_type = {}, "application/json"  # to name the invoicer
        if isinstance(case.body, dict):
            case.body = pinned(case.body)
            # Left out, or sent as null.
            if CREATES_AN_INVOICE.match(label) and case.body.get("invoicer_id") is None:
                case.body["invoicer_id"] = records["invoicer"]
            for pattern, kept in KEPT_ON_UPDATE.items():
                if pattern.match(label):
                    case.body |= {key: value for key, value in kept.items() if key in case.body}
        if isinstance(case.query, dict):
            case.query = {
                key: records[QUERY_REFERENCES[key]] if key in QUERY_REFERENCES else value
                for key, value in case.query.items()
            }
        return case


def _listed_once(items: list[Any]) -> list[Any]:
    """`items` without the entries that name a LISTED_ONCE record an earlier one names."""
    seen: set[tuple[str, Any]] = set()
    kept = []
    for item in items:
        names = (
            {(key, item[key]) for key in LISTED_ONCE if key in item}
            if isinstance(item, dict)
            else set()
        )
        if names & seen:
            continue
        seen |= names
        kept.append(item)
    return kept


def _is_number(value: Any) -> bool:
    """An id as generated: an integer, or a float with an integer value (`434.0`)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unique(field: str, value: str, number: int) -> str:
    tag = f"{number}{uuid.uuid4().hex[:8]}"
    if field == "email":
        local, _, domain = value.rpartition("@")
        return f"{local[: 64 - len(tag) - 1].rstrip('.')}.{tag}@{domain}" if local else value
    return f"{value[: 64 - len(tag) - 1]}-{tag}"


class Pacer:
    """Tokens taken in turn, none more than `per_minute` times in any 60 seconds: when every
    token is at its limit, wait for the oldest use to leave the window."""

    def __init__(self, tokens: list[str], per_minute: int | None) -> None:
        self._uses = {token: deque[float]() for token in tokens}
        self._order = itertools.cycle(tokens)
        self._per_minute = per_minute
        self._lock = threading.Lock()

    def take(self) -> str:
        with self._lock:
            while True:
                now = time.monotonic()
                for _ in self._uses:
                    token = next(self._order)
                    uses = self._uses[token]
                    while uses and uses[0] <= now - 60:
                        uses.popleft()
                    if self._per_minute is None or len(uses) < self._per_minute:
                        uses.append(now)
                        return token
                oldest = min(uses[0] for uses in self._uses.values())
                time.sleep(oldest + 60 - now)


def token_pool(seeds: Seeds, per_minute: int | None) -> Callable[[Any], str | None]:
    """The bearer token of each generated request: the owner for what only an owner may do,
    the revoker's own tokens for what revokes a token, else the admins in turn."""
    admins = Pacer(seeds.admin_tokens, per_minute)

    def choose(case: Any) -> str | None:
        operation = case.operation
        if operation.definition.raw.get("security") == []:
            return None
        label = operation.label
        if OWNER_ONLY.match(label):
            return seeds.owner_token
        if REVOKES_CALLER.match(label):
            return seeds.logout_token
        if REVOKES_TOKEN.match(label):
            return seeds.revoker_token
        return admins.take()

    return choose


def authenticate(schema: Any, choose: Callable[[Any], str | None]) -> None:
    class PooledBearer:
        def get(self, case: Any, context: Any) -> str | None:
            return choose(case)

        def set(self, case: Any, token: str | None, context: Any) -> None:
            if token is not None:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    schema.auth(refresh_interval=None)(PooledBearer)


# --- the figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    check: str
    operation: str
    title: str
    message: str
    request: str  # a reproducing curl
    answer: str = ""  # the status and the start of the body answered


@dataclass
class Figures:
    operations: set[str] = field(default_factory=set)
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # operations schemathesis could not test
    seconds: float = 0.0

    def of(self, checks: frozenset[str]) -> list[Finding]:
        return [finding for finding in self.findings if finding.check in checks]

    @property
    def server_errors(self) -> list[Finding]:
        return self.of(SERVER_ERROR_CHECKS)

    @property
    def schema_violations(self) -> list[Finding]:
        return self.of(SCHEMA_CHECKS)

    @property
    def undocumented_statuses(self) -> list[Finding]:
        return self.of(STATUS_CHECKS)

    @property
    def throttled(self) -> int:
        """429s under the per-user limit the pacing exists to avoid."""
        return sum(
            counts[429]
            for label, counts in self.by_operation.items()
            if not OWN_LIMIT.search(label)
        )

    @property
    def data_mismatches(self) -> list[Finding]:
        return self.of(DATA_CHECKS)

    @property
    def breaking(self) -> list[Finding]:
        """Every finding but the data checks' (counted on their own)."""
        return [finding for finding in self.findings if finding.check not in DATA_CHECKS]

    def summary(self) -> str:
        lines = [
            f"operations tested: {len(self.operations)}",
            f"cases (requests): {self.cases}",
            f"answers 5xx: {sum(n for s, n in self.statuses.items() if s >= 500)}",
            f"answers 429: {self.statuses[429]} ({self.throttled} outside send/regenerate limits)",
            f"statuses: {dict(sorted(self.statuses.items()))}",
            f"server errors: {len(self.server_errors)}",
            f"schema violations: {len(self.schema_violations)}",
            f"undocumented statuses/methods: {len(self.undocumented_statuses)}",
            f"other failed checks: {len(self.breaking) - len(self.server_errors) - len(self.schema_violations) - len(self.undocumented_statuses)}",
            f"data accepted/refused against the schema: {len(self.data_mismatches)}",
            f"operations not testable: {len(self.errors)}",
            f"wall time: {self.seconds:.1f} s",
        ]
        return "\n".join(lines)

    def reach(self) -> str:
        """Per operation, the statuses it answered: which ones the cases really reached."""
        return "\n".join(
            f"{label}: {dict(sorted(counts.items()))}"
            for label, counts in sorted(self.by_operation.items())
        )

    def details(self, findings: list[Finding] | None = None, limit: int = 200) -> str:
        shown = self.findings if findings is None else findings
        lines = [
            f"[{f.check}] {f.operation}: {f.title}\n    {f.message[:600]}\n    {f.request}"
            f"\n    -> {f.answer}"
            for f in shown[:limit]
        ]
        lines += [f"[not testable] {error}" for error in self.errors[:limit]]
        return "\n".join(lines)


def run(schema: Any) -> Figures:
    figures = Figures()
    started = time.monotonic()
    seen: set[tuple[str, str, str]] = set()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _count(event.recorder, figures, seen)
        elif isinstance(event, events.NonFatalError):
            figures.errors.append(f"{event.label}: {event.value}")
        elif isinstance(event, events.FatalError):
            raise RuntimeError(f"schemathesis stopped: {event.exception}")
    figures.seconds = time.monotonic() - started
    return figures


def _answer_of(interaction: Any) -> str:
    response = getattr(interaction, "response", None)
    if response is None:
        return ""
    return f"{response.status_code} {response.text_lossy()[:400]}"


def _count(recorder: Any, figures: Figures, seen: set[tuple[str, str, str]]) -> None:
    for interaction in recorder.interactions.values():
        figures.cases += 1
        figures.operations.add(recorder.label)
        if interaction.response is not None:
            status = interaction.response.status_code
            figures.statuses[status] += 1
            figures.by_operation.setdefault(recorder.label, Counter())[status] += 1
    for case_id, checks in recorder.checks.items():
        interaction = recorder.interactions.get(case_id)
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            key = (check.name, recorder.label, info.failure.title)
            if key in seen:
                continue
            seen.add(key)
            figures.findings.append(
                Finding(
                    check.name,
                    recorder.label,
                    info.failure.title,
                    str(info.failure.message),
                    info.code_sample,
                    _answer_of(interaction),
                )
            )
