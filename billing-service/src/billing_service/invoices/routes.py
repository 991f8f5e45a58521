"""Operations of the invoices table: /invoices (every type), /quotes (INNOVATECH), /estimates
(InvoiceFlow), the actions on one record, its members, and convert-to-invoice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing_service.invoices import handlers
from billing_service.invoices import schemas as bodies
from billing_service.invoices.handlers import (
    ESTIMATES_FAMILY,
    INVOICES_FAMILY,
    QUOTES_FAMILY,
    Family,
)
from billing_service.invoices.views.models import (
    ConvertedEstimate,
    InvoiceMemberView,
    InvoiceView,
    Message,
    PortalInvoiceView,
)
from billing_service.platform.permissions import DocumentAccess
from shared.contract import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    Data,
    Handler,
    NoContent,
    Operation,
    Paged,
    Plain,
)

V1 = "/api/v1"
SEEN_BY_CALLER = InvoiceView | PortalInvoiceView  # a member's view, or a client-portal user's
ETAG = ("ETag",)
# Every POST honours Idempotency-Key: a key still in flight is 409, reused with another body 422.
POST_ERRORS = (400, 409, 422)
CHANGE_ERRORS = (403, 409, 412)  # not the caller's to change, not in that status, stale ETag


@dataclass(frozen=True)
class Route:
    """A family of routes over the invoices table, and the words its documentation uses."""

    path: str
    family: Family
    tag: str
    noun: str  # invoice, quote, estimate
    article: str  # "an" or "a"

    def access(self, operation: str, *, members_only: bool = True) -> DocumentAccess:
        """Under /invoices the record's type decides the ability; /quotes and /estimates show
        quotes only."""
        resources = (self.family.ability,) if self.family.kind else ("invoices", "quotes")
        return DocumentAccess(operation, resources, members_only=members_only)

    def summary(self, verb: str) -> str:
        return f"{verb} {self.article} {self.noun}"


def _crud(route: Route) -> list[Operation]:
    family, one = route.family, f"{route.path}/{{id}}"
    portal_reads = family.kind is None  # a client's /invoices: their invoices, with any token
    plural = f"{route.noun}s"
    return [
        Operation(
            "GET",
            route.path,
            handlers.list_invoices(family),
            DocumentAccess(
                "read", (family.ability,), members_only=False, portal_reads=portal_reads
            ),
            f"List {plural}",
            route.tag,
            f"list_{plural}",
            Paged(SEEN_BY_CALLER, cursor=True),
            query=bodies.ListFilters,
            errors=(400, 403),
            description="Offset pages (`page`, `per_page`) or keyset pages (`cursor`: "
            "meta.next_cursor). A type the token may not read is left out.",
        ),
        Operation(
            "POST",
            route.path,
            handlers.create_invoice(family),
            route.access("create"),
            route.summary("Create"),
            route.tag,
            f"create_{route.noun}",
            Data(InvoiceView, message=True),
            status=201,
            body=bodies.InvoiceWrite,
            headers=(IDEMPOTENCY_KEY,),
            response_headers=ETAG,
            errors=(*POST_ERRORS, 403),
        ),
        Operation(
            "GET",
            one,
            handlers.get_invoice(family),
            (
                DocumentAccess("read", members_only=False, portal_reads=True)
                if portal_reads
                else route.access("read", members_only=False)
            ),
            route.summary("Get"),
            route.tag,
            f"get_{route.noun}",
            Data(SEEN_BY_CALLER),
            response_headers=ETAG,
            errors=(403,),
        ),
        *(
            Operation(
                method,
                one,
                handlers.update_invoice(family),
                route.access("update"),
                route.summary("Update") + note,
                route.tag,
                f"{verb}_{route.noun}",
                Data(InvoiceView),
                body=bodies.InvoiceUpdate,
                headers=(IF_MATCH,),
                response_headers=ETAG,
                errors=CHANGE_ERRORS,
                description="Only what is sent changes; a draft or scheduled record only.",
            )
            for method, verb, note in (("PUT", "update", ""), ("PATCH", "patch", " (as PUT)"))
        ),
        Operation(
            "DELETE",
            one,
            handlers.delete_invoice(family),
            route.access("delete"),
            route.summary("Delete"),
            route.tag,
            f"delete_{route.noun}",
            NoContent(),
            status=204,
            headers=(IF_MATCH,),
            errors=CHANGE_ERRORS,
            description="A paid record, or one with payments, is kept (409).",
        ),
    ]


def action(
    action: str,
    handler: Handler,
    operation: str,
    summary: str,
    operation_id: str,
    **contract: Any,
) -> Operation:
    """POST /invoices/{id}/<action>: the record's type decides the ability."""
    contract.setdefault("answer", Data(InvoiceView))
    contract.setdefault("headers", (IF_MATCH,))
    contract.setdefault("errors", CHANGE_ERRORS)
    contract["headers"] = (*contract["headers"], IDEMPOTENCY_KEY)
    contract["errors"] = (*contract["errors"], *POST_ERRORS)
    if isinstance(contract["answer"], Data) and contract["answer"].model is InvoiceView:
        contract.setdefault("response_headers", ETAG)
    return Operation(
        "POST",
        f"{V1}/invoices/{{id}}/{action}",
        handler,
        DocumentAccess(operation),
        summary,
        "Invoice actions",
        operation_id,
        **contract,
    )


ACTIONS = [
    action(
        "approve",
        handlers.approve,
        "update",
        "Approve an invoice or quote",
        "approve_invoice",
        body=bodies.ApproveBody,
        body_required=False,
        description="Renders its PDF (later, on first download, when pdf-service is down).",
    ),
    action(
        "send",
        handlers.send,
        "send",
        "Send an invoice or quote by e-mail",
        "send_invoice",
        answer=Plain(Message),
        body=bodies.SendBody,
        body_required=False,
        errors=(*CHANGE_ERRORS, 429),
        description="Queues an e-mail to the recipient, the members who receive it and the "
        "recipient's client-portal contacts; 429 past the company's or the user's e-mail quota.",
    ),
    action(
        "send-email",
        handlers.send_email,
        "send",
        "E-mail an invoice (InvoiceMee)",
        "send_invoice_email",
        answer=Plain(Message),
        body=bodies.SendEmailBody,
        body_required=False,
        errors=(*CHANGE_ERRORS, 429),
        description="As /send with the invoice-issued template; the message names the addresses.",
    ),
    action(
        "send-payment-link",
        handlers.send_payment_link,
        "send",
        "Send a payment link",
        "send_payment_link",
        answer=Plain(Message),
        headers=(),
        errors=(403, 409),
        description="No payment provider is configured in this installation: always 409 "
        "PAYMENT_PROVIDER_NOT_CONFIGURED once the record is found.",
    ),
    action(
        "pay",
        handlers.pay,
        "pay",
        "Record a payment",
        "pay_invoice",
        body=bodies.PayBody,
        description="Paid in full, the invoice is `paid`.",
    ),
    action("cancel", handlers.cancel, "cancel", "Cancel a record", "cancel_invoice"),
    action("decline", handlers.decline, "update", "Decline a quote", "decline_quote"),
    action(
        "convert",
        handlers.convert,
        "create",
        "Convert a record into another type",
        "convert_invoice",
        body=bodies.ConvertBody,
        status=201,
        headers=(),
        errors=(403, 409),
        description="Needs the create ability of the new type too, and for a quote turned "
        "into an invoice (it becomes `converted`) the quote's update ability.",
    ),
    action(
        "set-schedule-date",
        handlers.set_schedule_date,
        "update",
        "Schedule a record",
        "set_schedule_date",
        body=bodies.ScheduleBody,
    ),
    action(
        "set-due-date",
        handlers.set_due_date,
        "update",
        "Set the due date",
        "set_due_date",
        body=bodies.DueDateBody,
    ),
    action(
        "set-period",
        handlers.set_period,
        "update",
        "Set the billed period",
        "set_period",
        body=bodies.PeriodBody,
    ),
    action(
        "members",
        handlers.set_members,
        "update",
        "Set who of the company may see and receive a record",
        "set_invoice_members",
        answer=Data(list[InvoiceMemberView]),
        body=bodies.MembersBody,
        headers=(),
        errors=(403,),
    ),
]
OTHERS = [
    Operation(
        "GET",
        f"{V1}/invoices/{{id}}/members",
        handlers.list_members,
        DocumentAccess("read"),
        "List who of the company may see and receive a record",
        "Invoice actions",
        "list_invoice_members",
        Data(list[InvoiceMemberView]),
        errors=(403,),
    ),
    Operation(
        "POST",
        f"{V1}/estimates/{{id}}/convert-to-invoice",
        handlers.convert_estimate,
        DocumentAccess("update", ("quotes",), extra=("invoices:create",)),
        "Convert an estimate into an invoice",
        "Estimates",
        "convert_estimate_to_invoice",
        Data(ConvertedEstimate, message=True),
        status=201,
        headers=(IDEMPOTENCY_KEY,),
        errors=(403, 409, *POST_ERRORS),
        description="The estimate becomes `converted`; the answer names the new invoice.",
    ),
]
ROUTES = (
    Route(f"{V1}/invoices", INVOICES_FAMILY, "Invoices", "invoice", "an"),
    Route(f"{V1}/quotes", QUOTES_FAMILY, "Quotes", "quote", "a"),
    Route(f"{V1}/estimates", ESTIMATES_FAMILY, "Estimates", "estimate", "an"),
)
OPERATIONS = [operation for route in ROUTES for operation in _crud(route)] + ACTIONS + OTHERS


def operations() -> list[Operation]:
    return OPERATIONS
