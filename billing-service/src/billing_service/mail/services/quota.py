"""How much e-mail may go out: sends of one invoice in a window, a company's e-mails in an
hour, and the e-mails a user queued in an hour across all their companies (a user can make
companies at will, so the company's cap alone would not bound them).

Both count what was queued in the outbox, so a refused, unauthorized or failed send uses up
nothing. One send may queue an e-mail to each of several addressees (the recipient, invoice
members, client-portal contacts): the invoice's quota counts sends (one per API call, whatever
the number of addressees); the company's hourly cap counts e-mails, as the mailer's delivery
cap does, because it bounds the company's mail volume. The API refuses a send over either
quota with 429 and Retry-After (a send is accepted while the company is under its cap, even if
its addressees take it over); the mailer holds back (never drops) a delivery over the
company's hourly cap, which keeps the cap for every e-mail whatever queued it (the scheduler's
auto-send included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from billing_service.invoices.repositories.invoices import Invoice
from billing_service.mail import repositories as outbox
from billing_service.mail.repositories import Tally
from billing_service.platform.settings import Settings
from shared.errors import RateLimited

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class MailQuota:
    invoice_sends: int
    invoice_window: timedelta
    company_hourly: int
    user_hourly: int

    @classmethod
    def from_settings(cls, settings: Settings) -> MailQuota:
        return cls(
            settings.mail_invoice_sends_per_window,
            timedelta(seconds=settings.mail_invoice_window_seconds),
            settings.mail_company_hourly_cap,
            settings.mail_user_hourly_cap,
        )

    async def check_send(
        self, conn: asyncpg.Connection, invoice: Invoice, user_id: int, now: datetime
    ) -> None:
        """Refuse a send over a quota. The caller holds the invoice's row lock, so concurrent
        sends of one invoice are counted one after the other."""
        window = self.invoice_window
        sent = await outbox.queued_for_invoice(conn, invoice.id, now - window)
        if sent.count >= self.invoice_sends:
            raise _limited(sent, window, now, "This invoice was e-mailed moments ago.")
        await self.check_company_send(conn, invoice.company_id, user_id, now)

    async def check_statement_send(
        self, conn: asyncpg.Connection, sent: Tally, company_id: int, user_id: int, now: datetime
    ) -> None:
        """Refuse a customer's statement send over the same window as an invoice's: `sent`
        counts the customer's statement sends since `now` less `invoice_window`, taken under
        the customer's row lock."""
        if sent.count >= self.invoice_sends:
            message = "This customer's statement was e-mailed moments ago."
            raise _limited(sent, self.invoice_window, now, message)
        await self.check_company_send(conn, company_id, user_id, now)

    async def check_company_send(
        self, conn: asyncpg.Connection, company_id: int, user_id: int, now: datetime
    ) -> None:
        """Refuse a send over the company's or the user's hourly cap (a send about no one
        invoice, such as a customer's statement, has only these)."""
        await outbox.lock_quota(conn, company_id, user_id)
        company = await outbox.queued_for_company(conn, company_id, now - HOUR)
        if company.count >= self.company_hourly:
            raise _limited(company, HOUR, now, "The company's hourly e-mail limit is reached.")
        user = await outbox.queued_by_user(conn, user_id, now - HOUR)
        if user.count >= self.user_hourly:
            raise _limited(user, HOUR, now, "Your hourly e-mail limit is reached.")

    async def delivery_slot(
        self, conn: asyncpg.Connection, company_id: int, now: datetime
    ) -> datetime | None:
        """None when the company may have one more e-mail delivered now; else the instant its
        hourly cap frees a slot."""
        delivered = await outbox.sent_for_company(conn, company_id, now - HOUR)
        if delivered.count < self.company_hourly or delivered.oldest is None:
            return None
        return delivered.oldest + HOUR


def _limited(tally: Tally, window: timedelta, now: datetime, message: str) -> RateLimited:
    assert tally.oldest is not None  # a count over the quota has an oldest e-mail
    wait = max(math.ceil((tally.oldest + window - now).total_seconds()), 1)
    return RateLimited(message, headers={"Retry-After": str(wait)})
