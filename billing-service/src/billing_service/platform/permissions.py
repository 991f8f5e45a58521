"""Who may do what inside a company: the role matrix, as data, in one place.

Two independent checks guard every write, both for the company of the record concerned
(never the caller's current company):
- the token's ability (`invoices:pay`, `quotes:update`, ...): what the token may do for its
  user. For a record of the invoices table the ability follows the record's type, known
  only once it is loaded: a quote needs `quotes:*` whichever route reaches it.
- the user's role in that company (this matrix): what the person may do there.

Roles: `owner` everything; `admin` everything but deleting the company and changing owners;
`member` reads everything and creates, edits and sends documents (drafts, quotes, recurring
templates), but records no payments, cancels or deletes no document, and writes no master
data: invoicers, payment details, recipients, organisations, products (creating included:
a new payment detail on an invoice is as good as changing an IBAN). Members manage no
members and no client-portal contacts. A client-portal user (`client`) reads the documents
of their recipient and downloads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from billing_service.platform.scope import Scope
from shared.errors import CompanyAccessDenied, Forbidden
from shared.identity import Identity, identity_of

OWNER, ADMIN, MEMBER, CLIENT = "owner", "admin", "member", "client"
TEAM = frozenset({OWNER, ADMIN, MEMBER})
MANAGERS = frozenset({OWNER, ADMIN})
OWNERS = frozenset({OWNER})


@dataclass(frozen=True)
class Permission:
    doing: str  # ends "Your role (member) in this company does not allow <doing>."
    roles: frozenset[str]


MATRIX: dict[str, Permission] = {
    "documents.read": Permission("reading invoices and quotes", TEAM | {CLIENT}),
    "documents.write": Permission("creating and editing invoices and quotes", TEAM),
    "documents.send": Permission("sending invoices and quotes", TEAM),
    "documents.cancel": Permission("cancelling invoices and quotes", MANAGERS),
    "documents.delete": Permission("deleting invoices and quotes", MANAGERS),
    "payments.record": Permission("recording payments", MANAGERS),
    # A member drafts a credit note as they draft an invoice; issuing one moves money.
    "credit_notes.issue": Permission("issuing credit notes", MANAGERS),
    "invoicers.write": Permission("creating, changing or deleting invoicers", MANAGERS),
    "payment_details.write": Permission("creating, changing or deleting payment details", MANAGERS),
    "recipients.write": Permission("creating, changing or deleting recipients", MANAGERS),
    "organisations.write": Permission("creating, changing or deleting organisations", MANAGERS),
    "products.write": Permission("creating, changing or deleting products", MANAGERS),
    "contacts.manage": Permission("inviting client-portal contacts", MANAGERS),
    "members.manage": Permission("managing members", MANAGERS),
    "owners.manage": Permission("granting or removing the owner role", OWNERS),
    "company.update": Permission("changing the company", MANAGERS),
    "company.delete": Permission("deleting the company", OWNERS),
    # Webhooks carry every record's data out of the platform: managers only, reads included.
    "webhooks.manage": Permission("managing webhooks", MANAGERS),
    "events.read": Permission("reading the event log", MANAGERS),
    # Customer statements (issue 21c): read by the team, e-mailed by managers.
    "statements.read": Permission("reading customer statements", TEAM),
    "statements.send": Permission("sending customer statements", MANAGERS),
    # Reports add up the company's money: managers only, as for payments.
    "reports.read": Permission("reading reports", MANAGERS),
    # A CSV export carries a whole company's records out (an accountant's token).
    "records.export": Permission("exporting the company's records", MANAGERS),
}

# Operations on one record of the invoices table: the token ability's action (under the
# record type's resource) and the role permission each needs.
DOCUMENT_OPERATIONS: dict[str, tuple[str, str]] = {
    "read": ("read", "documents.read"),
    "download": ("download", "documents.read"),
    "create": ("create", "documents.write"),
    "update": ("update", "documents.write"),
    "send": ("send", "documents.send"),
    "pay": ("pay", "payments.record"),
    "cancel": ("update", "documents.cancel"),
    "delete": ("delete", "documents.delete"),
}
DOCUMENT_RESOURCES = ("invoices", "quotes", "credit_notes")
# The invoices table's types.
DOCUMENT_TYPES = ("invoice", "quote", "recurring", "template", "credit_note")


def document_resource(invoice_type: str) -> str:
    """The ability resource of a record of the invoices table: quotes are `quotes`, credit
    notes `credit_notes`, the others `invoices`."""
    return _RESOURCE_OF_TYPE.get(invoice_type, "invoices")


_RESOURCE_OF_TYPE = {"quote": "quotes", "credit_note": "credit_notes"}


def require_role(role: str | None, name: str) -> None:
    """403 naming the role when the matrix does not give it this permission."""
    permission = MATRIX[name]
    if role is None:
        raise CompanyAccessDenied()
    if role not in permission.roles:
        raise Forbidden(f"Your role ({role}) in this company does not allow {permission.doing}.")


def require(scope: Scope, company_id: int, name: str) -> None:
    """The caller's role in THIS company (the record's) must allow the permission."""
    require_role(scope.role_in(company_id), name)


def reads_without_ability(identity: Identity, invoice_type: str | None, operation: str) -> bool:
    """INNOVATECH's portal: "the invoice list and detail endpoints accept any valid
    authenticated token". A client-portal user reads their own invoices whatever the token's
    abilities; their quotes and downloads keep theirs, and members always need them."""
    return identity.kind == CLIENT and invoice_type == "invoice" and operation == "read"


def authorize_document(scope: Scope, invoice_type: str, company_id: int, operation: str) -> None:
    """The token's ability for the record's type, then the role in the record's company."""
    action, permission = DOCUMENT_OPERATIONS[operation]
    if not reads_without_ability(scope.identity, invoice_type, operation):
        scope.identity.require(f"{document_resource(invoice_type)}:{action}")
    require(scope, company_id, permission)


@dataclass(frozen=True)
class DocumentAccess:
    """Who may call a route of the invoices table (shared.contract's `Access`), checked before
    the handler: the token's ability for one of `resources` (several: the record's type,
    known once the service has loaded it, decides which, and the service checks that one),
    every `extra` ability, and whether client-portal users may call it at all."""

    operation: str  # a DOCUMENT_OPERATIONS key
    resources: tuple[str, ...] = DOCUMENT_RESOURCES
    members_only: bool = True
    portal_reads: bool = False  # a client-portal user reads their invoices with any token
    extra: tuple[str, ...] = ()
    public: bool = False

    @property
    def _alternatives(self) -> tuple[str, ...]:
        action = DOCUMENT_OPERATIONS[self.operation][0]
        return tuple(f"{resource}:{action}" for resource in self.resources)

    def abilities(self) -> tuple[str, ...]:
        return self._alternatives + self.extra

    def describe(self) -> str:
        first, *others = self._alternatives
        text = f"Requires `{first}`" + "".join(
            f" or, on a {resource.removesuffix('s')}, `{ability}`"
            for resource, ability in zip(self.resources[1:], others, strict=True)
        )
        text += "".join(f" and `{ability}`" for ability in self.extra) + "."
        if self.portal_reads:
            text += " Client-portal users read their own invoices with any token."
        elif self.members_only:
            text += " Not for client-portal users."
        else:
            text += " Client-portal users: their own records only."
        return text

    def check(self, request: web.Request) -> None:
        identity = identity_of(request)
        if not (self.portal_reads and identity.kind == CLIENT):
            if not any(identity.can(ability) for ability in self._alternatives):
                lacking = "' or '".join(self._alternatives)
                raise Forbidden(f"This token lacks the '{lacking}' ability.")
            for ability in self.extra:
                identity.require(ability)
        if self.members_only and identity.kind == CLIENT:
            raise Forbidden("Client-portal users cannot do this.")
