"""Operations of customer statements."""

from __future__ import annotations

from billing_service.statements import handlers
from billing_service.statements.schemas import SendStatementBody, StatementQuery
from billing_service.statements.views import StatementSentView, StatementView
from shared.contract import IDEMPOTENCY_KEY, Content, Data, Operation, requires

V1 = "/api/v1"
ONE_STATEMENT = f"{V1}/customers/{{id}}/statement"


def operations() -> list[Operation]:
    return [
        Operation(
            "GET",
            ONE_STATEMENT,
            handlers.statement,
            requires("recipients:read", note="Members of the customer's company."),
            "A customer's statement of account in one currency",
            "Statements",
            "get_customer_statement",
            Content(
                "application/pdf",
                "With `Accept: application/pdf`: the statement as a PDF",
                json=Data(StatementView),
            ),
            query=StatementQuery,
            errors=(403,),
            response_headers=("Content-Disposition",),
            description="The opening balance at the start of `from`; every invoice, credit "
            "note, payment (a payment across invoices once, whole), refund and credit applied "
            "from `from` to `to` in date order with the running balance; the closing balance "
            "at the end of `to`; and what the invoices are owed then by days past due. The "
            "balance is what the customer owes less the credit they hold, so credit applied "
            "moves it by nothing and a negative balance is money on account. `from` after "
            "`to`, or more than 366 days before it, is a 422 on `from`. `Accept: "
            "application/pdf` gives the same statement as a PDF, with the invoices' branding.",
        ),
        Operation(
            "POST",
            f"{ONE_STATEMENT}/send",
            handlers.send,
            requires("recipients:send", note="Owners and admins only."),
            "E-mail a customer their statement",
            "Statements",
            "send_customer_statement",
            Data(StatementSentView, message=True),
            status=202,
            body=SendStatementBody,
            body_required=False,
            headers=(IDEMPOTENCY_KEY,),
            errors=(400, 403, 409, 422, 429),
            description="The statement of the period (the same defaults as GET) as a PDF "
            "attachment, one e-mail to the customer's address and to each of its client-portal "
            "contacts, queued for the mailer. Counts against the company's and the user's "
            "hourly e-mail caps (429 with Retry-After over them). 422 on `customer` when there "
            "is nobody to send to. Each send is kept (`id`).",
        ),
    ]
