"""Token abilities: `<resource>:<action>` with the wildcards `*`, `<resource>:*`, `*:<action>`."""

from __future__ import annotations

from collections.abc import Iterable

RESOURCES = (
    "invoices",
    "quotes",
    "credit_notes",
    "recipients",
    "invoicers",
    "products",
    "companies",
    "organisations",
    "teams",
    "profile",
    # Listing and revoking the user's OTHER tokens; a token may always log itself out.
    "tokens",
    "webhooks",
)
ACTIONS = ("read", "create", "update", "delete")
# Resources that are only read: the event log (`events:read`, or `events:*` for the same),
# the reports (`reports:read`).
READ_ONLY_RESOURCES = ("events", "reports")
# A quote or a credit note is sent and downloaded like an invoice, under its own resource's
# abilities (payments are recorded on invoices only: `invoices:pay`).
EXTRA_ABILITIES = (
    "invoices:download",
    "invoices:send",
    "invoices:pay",
    "quotes:download",
    "quotes:send",
    "credit_notes:download",
    "credit_notes:send",
    # Customer statements e-mailed (issue 21c); reading one is `recipients:read`.
    "recipients:send",
)

KNOWN_ABILITIES: frozenset[str] = frozenset(
    {"*"}
    | {f"{resource}:{action}" for resource in RESOURCES for action in ACTIONS}
    | {f"{resource}:*" for resource in (*RESOURCES, *READ_ONLY_RESOURCES)}
    | {f"{resource}:read" for resource in READ_ONLY_RESOURCES}
    | {f"*:{action}" for action in (*ACTIONS, "download", "send", "pay")}
    | set(EXTRA_ABILITIES)
)


def known_abilities(requested: Iterable[str]) -> list[str]:
    """The requested abilities this platform knows, in request order, without repeats."""
    seen: dict[str, None] = {}
    for ability in requested:
        if ability in KNOWN_ABILITIES:
            seen.setdefault(ability, None)
    return list(seen)


def grants(abilities: Iterable[str], required: str) -> bool:
    resource, _, action = required.partition(":")
    candidates = {"*", required, f"{resource}:*", f"*:{action}"}
    return any(ability in candidates for ability in abilities)
