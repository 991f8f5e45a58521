"""Operations of accounts receivable: credit notes made from an invoice (then approved, sent
and downloaded under /invoices like any record of the invoices table), refunds, customer
credit, and payments received across invoices."""

from __future__ import annotations

from billing_service.invoices.routes import POST_ERRORS, V1
from billing_service.invoices.views.models import InvoiceView
from billing_service.platform.permissions import DocumentAccess
from billing_service.receivables import handlers
from billing_service.receivables.schemas import (
    ApplyCreditBody,
    CreditNoteBody,
    PaymentBody,
    PaymentFilters,
    RefundBody,
)
from billing_service.receivables.views import CustomerBalanceView, ReceivedPaymentView
from shared.contract import IDEMPOTENCY_KEY, Data, Operation, Paged, requires

ONE_INVOICE = f"{V1}/invoices/{{id}}"
MANAGERS = "Owners and admins only."
PAY = DocumentAccess("pay", ("invoices",))


def operations() -> list[Operation]:
    return [
        Operation(
            "POST",
            f"{ONE_INVOICE}/credit-notes",
            handlers.create_credit_note,
            DocumentAccess("create", ("credit_notes",)),
            "Draft a credit note of an invoice",
            "Credit notes",
            "create_credit_note",
            Data(InvoiceView, message=True),
            status=201,
            body=CreditNoteBody,
            headers=(IDEMPOTENCY_KEY,),
            errors=(*POST_ERRORS, 403, 409),
            description="A draft `credit_note` (CN-0001, the company's own series) of an "
            "issued invoice: the lines named, or everything still creditable. Its credit "
            "notes never add up to more than the invoice's total (422 on `items`). Approve "
            "it (/invoices/{id}/approve, owners and admins) to issue it: the invoice's "
            "balance falls; what it credits beyond the balance becomes the customer's credit.",
        ),
        Operation(
            "POST",
            f"{ONE_INVOICE}/refunds",
            handlers.refund,
            PAY,
            "Refund money paid on an invoice",
            "Invoice actions",
            "refund_invoice",
            Data(InvoiceView),
            body=RefundBody,
            headers=(IDEMPOTENCY_KEY,),
            errors=(*POST_ERRORS, 403, 409),
            description="Never more than the invoice keeps (nor than the payment named has "
            "left). A paid invoice awaits payment again. " + MANAGERS,
        ),
        Operation(
            "POST",
            f"{ONE_INVOICE}/apply-credit",
            handlers.apply_credit,
            PAY,
            "Settle an invoice from its customer's credit",
            "Invoice actions",
            "apply_credit",
            Data(InvoiceView),
            body=ApplyCreditBody,
            headers=(IDEMPOTENCY_KEY,),
            errors=(*POST_ERRORS, 403, 409),
            description="Recorded as a payment (`payment_method` credit); at most the "
            "balance due and the credit available in the invoice's currency. " + MANAGERS,
        ),
        Operation(
            "GET",
            f"{V1}/customers/{{id}}/balance",
            handlers.customer_balance,
            requires("invoices:read"),
            "A customer's balance: outstanding and credit, per currency",
            "Payments",
            "get_customer_balance",
            Data(CustomerBalanceView),
            errors=(403,),
        ),
        Operation(
            "POST",
            f"{V1}/payments",
            handlers.create_payment,
            requires("invoices:pay", note=MANAGERS),
            "Record a payment received across invoices",
            "Payments",
            "create_payment",
            Data(ReceivedPaymentView),
            status=201,
            body=PaymentBody,
            headers=(IDEMPOTENCY_KEY,),
            errors=(*POST_ERRORS, 403, 409),
            description="One payment of a customer allocated to several of their invoices in "
            "its currency (each allocation appears in its invoice's `payments`); what is left "
            "unallocated becomes the customer's credit.",
        ),
        Operation(
            "GET",
            f"{V1}/payments",
            handlers.list_payments,
            requires("invoices:read"),
            "List payments received",
            "Payments",
            "list_payments",
            Paged(ReceivedPaymentView),
            query=PaymentFilters,
            errors=(400, 403),
        ),
        Operation(
            "GET",
            f"{V1}/payments/{{id}}",
            handlers.get_payment,
            requires("invoices:read"),
            "Get a payment received",
            "Payments",
            "get_payment",
            Data(ReceivedPaymentView),
            errors=(403,),
        ),
    ]
