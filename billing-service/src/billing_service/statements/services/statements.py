"""Customer statements: the account of one customer in one currency over a period (its
figures from the records, see ledger.py), as an answer, as a PDF, and e-mailed under the
company's e-mail caps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from billing_service.documents.pdf_client import PdfClient
from billing_service.documents.services.snapshot import Formatter, LogoImage, postal_address
from billing_service.mail.services.quota import MailQuota
from billing_service.parties import repositories as parties_repo
from billing_service.platform.money import round_money
from billing_service.platform.permissions import require
from billing_service.platform.recurrence import company_today
from billing_service.platform.repositories.crud import Row
from billing_service.platform.scope import Scope
from billing_service.statements import repositories as repo
from billing_service.statements.repositories import SentStatement
from billing_service.statements.schemas import MAX_RANGE_DAYS
from billing_service.statements.services.document import period_words, statement_snapshot
from billing_service.statements.services.ledger import Account, Entry, account
from billing_service.statements.views import (
    AgingView,
    StatementAllocation,
    StatementLineView,
    StatementSentView,
    StatementView,
    party_view,
)
from shared.clock import Clock
from shared.errors import NotFound, ValidationFailed
from shared.web import dumps

DEFAULT_DAYS = 90
# A statement is read (and printed) whole: beyond this many lines, a shorter period.
MAX_LINES = 2000


@dataclass(frozen=True)
class Period:
    """What the caller asked for; None: the default."""

    start: date | None = None
    end: date | None = None
    currency: str | None = None


@dataclass(frozen=True)
class Statement:
    view: StatementView
    customer: Row
    issuer: Row


class Statements:
    def __init__(
        self, pool: asyncpg.Pool, pdf: PdfClient, quota: MailQuota, clock: Clock, locale: str
    ) -> None:
        self.pool = pool
        self.documents = pdf
        self.quota = quota
        self.clock = clock
        self.locale = locale

    async def statement(
        self, scope: Scope, customer_id: int, wanted: Period, permission: str = "statements.read"
    ) -> Statement:
        """The customer's statement; another tenant's customer is a 404."""
        scope.require_member()
        customer = await repo.customer(self.pool, customer_id, scope.company_ids)
        if customer is None:
            raise NotFound("Customer not found.")
        company_id = customer["company_id"]
        require(scope, company_id, permission)
        today = company_today(self.clock(), customer["company_timezone"])
        start, end = _period(wanted, today)
        currency = _currency(wanted, customer)
        records = await repo.account_records(self.pool, customer_id, company_id, currency, end)
        figures = account(records, start, end, currency)
        if len(figures.lines) > MAX_LINES:
            raise ValidationFailed.field(
                "from", f"The statement has more than {MAX_LINES} lines: choose a shorter period."
            )
        issuer = await repo.issuer(self.pool, company_id, customer_id) or {
            "id": 0,
            "company_entity": None,
        }
        fmt = Formatter(self.locale, currency)
        view = StatementView(
            customer_id=customer_id,
            company_id=company_id,
            currency=currency,
            period_from=start,
            period_to=end,
            issued_on=today,
            issuer=party_view(issuer, postal_address(issuer, fmt)),
            customer=party_view(customer, postal_address(customer, fmt)),
            **_figures(figures, currency),
        )
        return Statement(view, customer, issuer)

    async def pdf_of(self, statement: Statement) -> str:
        """The id of the statement's PDF at pdf-service (rendered once per content)."""
        logo = None
        if statement.issuer["id"]:
            stored = await parties_repo.logo_of(self.pool, statement.issuer["id"])
            logo = LogoImage(stored.media_type, stored.image) if stored else None
        snapshot = statement_snapshot(
            statement.view, statement.issuer, statement.customer, self.locale, logo
        )
        return await self.documents.render(snapshot)

    async def pdf(self, scope: Scope, customer_id: int, wanted: Period) -> tuple[bytes, str]:
        """The statement as a PDF, and its file name."""
        statement = await self.statement(scope, customer_id, wanted)
        body = await self.documents.pdf(await self.pdf_of(statement))
        return body, filename(statement.view)

    async def send(
        self, scope: Scope, customer_id: int, wanted: Period, custom_message: str | None
    ) -> StatementSentView:
        """An e-mail to each of the customer's addresses with the PDF attached, queued under
        the customer's window (as an invoice's sends) and the company's and the user's hourly
        caps (429 over them); the send is kept."""
        statement = await self.statement(scope, customer_id, wanted, "statements.send")
        view = statement.view
        contacts = await repo.contact_emails(self.pool, customer_id)
        addresses = _unique([statement.customer.get("email"), *contacts])
        if not addresses:
            raise ValidationFailed.field(
                "customer",
                "Nobody to send to: the customer has no e-mail address and no client-portal "
                "contacts.",
            )
        document_id = await self.pdf_of(statement)
        sent = SentStatement(
            view.company_id,
            customer_id,
            view.currency,
            view.period_from,
            view.period_to,
            view.closing_balance,
            document_id,
            scope.user_id,
        )
        context = _email_context(statement, document_id, self.locale)
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            await repo.lock_customer(conn, customer_id)
            sent_before = await repo.sent_since(conn, customer_id, now - self.quota.invoice_window)
            await self.quota.check_statement_send(
                conn, sent_before, view.company_id, scope.user_id, now
            )
            send_id = await repo.queue_statement(
                conn,
                sent,
                addresses,
                custom_message,
                dumps(context),
                now,  # UTF-8, as events
            )
        return StatementSentView(
            id=send_id,
            customer_id=customer_id,
            currency=view.currency,
            period_from=view.period_from,
            period_to=view.period_to,
            closing_balance=view.closing_balance,
            addresses=addresses,
        )


def filename(view: StatementView) -> str:
    return f"statement-{view.customer_id}-{view.currency}-{view.period_to.isoformat()}.pdf"


def _period(wanted: Period, today: date) -> tuple[date, date]:
    end = wanted.end or today
    start = wanted.start or end - timedelta(days=DEFAULT_DAYS)
    if start > end:
        raise ValidationFailed.field("from", "The from date must not be after the to date.")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed.field(
            "from", f"The period must not be longer than {MAX_RANGE_DAYS} days."
        )
    return start, end


def _currency(wanted: Period, customer: Row) -> str:
    chosen = wanted.currency or customer["company_currency"] or customer["currency"]
    if not chosen:
        raise ValidationFailed.field(
            "currency", "Name a currency: neither the company nor the customer has one."
        )
    return str(chosen).strip()


def _unique(addresses: list[str | None]) -> list[str]:
    unique: dict[str, str] = {}
    for address in addresses:
        if address and address.strip():
            unique.setdefault(address.strip().lower(), address.strip())
    return list(unique.values())


def _email_context(statement: Statement, document_id: str, locale: str) -> dict[str, Any]:
    """What the mailer composes the e-mail from (the PDF by its id at pdf-service)."""
    view = statement.view
    fmt = Formatter(locale, view.currency)
    return {
        "company": statement.issuer.get("company_entity") or "us",
        "customer": statement.customer.get("company_entity") or "",
        "period": period_words(view, fmt),
        "closing_balance": fmt.money(view.closing_balance),
        "in_credit": view.closing_balance < 0,
        "owed": fmt.money(view.owed),
        "credit_available": fmt.money(view.credit_available),
        "attachment": {"document_id": document_id, "filename": filename(view)},
    }


def _figures(figures: Account, currency: str) -> dict[str, Any]:
    """The statement's figures, each rounded to the currency's minor units."""

    def money(amount: Decimal) -> Decimal:
        return round_money(amount, currency)

    return {
        "opening_balance": money(figures.opening_balance),
        "lines": [_line(entry, balance, money) for entry, balance in figures.lines],
        "total_debits": money(sum((e.debit for e, _ in figures.lines), Decimal(0))),
        "total_credits": money(sum((e.credit for e, _ in figures.lines), Decimal(0))),
        "closing_balance": money(figures.closing_balance),
        "owed": money(figures.owed),
        "credit_available": money(figures.credit_available),
        "aging": AgingView(**{name: money(value) for name, value in figures.aging.items()}),
        "open_invoices": [
            i.model_copy(update={"owed": money(i.owed)}) for i in figures.open_invoices
        ],
    }


def _line(entry: Entry, balance: Decimal, money: Any) -> StatementLineView:
    return StatementLineView(
        date=entry.day,
        type=entry.kind,
        id=entry.record_id,
        reference=entry.reference,
        description=entry.description,
        invoice_id=entry.invoice_id,
        amount=money(entry.amount),
        debit=money(entry.debit),
        credit=money(entry.credit),
        balance=money(balance),
        allocations=[
            StatementAllocation(
                invoice_id=a.invoice_id, invoice_number=a.invoice_number, amount=money(a.amount)
            )
            for a in entry.allocations
        ],
    )
