"""The mailer: delivers the e-mail outbox, in every replica, one e-mail per transaction.

Each e-mail is taken with FOR UPDATE SKIP LOCKED and marked sent in the same transaction as
the delivery, so replicas never send one twice at once and none is lost: a failed delivery
stays pending and is retried with exponential backoff (then marked failed). The one window
left is a crash after the SMTP server accepted and before the commit; the Message-ID is
derived from the outbox row, so a receiving system can drop that duplicate.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import aiosmtplib
import asyncpg
import jinja2

from billing_service.repositories import invoices as invoice_repo
from billing_service.repositories import outbox as repo
from billing_service.repositories.outbox import OutgoingEmail
from billing_service.services.documents import DocumentService, snapshot
from billing_service.services.invoices import Clock
from billing_service.settings import Settings
from shared.errors import ServiceUnavailable
from shared.logging import get_logger

log = get_logger("billing.mailer")

SUBJECTS = {
    "quote": "Quote {label} from {sender}",
    "invoice-issued": "Invoice {label} from {sender}",
    "invoice-reminder": "Reminder: invoice {label} from {sender}",
    "invoice-due": "Invoice {label} is due today",
    "invoice-due-reminder": "Overdue: invoice {label} from {sender}",
    "estimate-actioned": "Your response to {label}",
    "invoice-paid": "Payment received for invoice {label}",
}
DELIVERY_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError, ServiceUnavailable)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... at most an hour between tries."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


class Mailer:
    def __init__(
        self, pool: asyncpg.Pool, documents: DocumentService, settings: Settings, clock: Clock
    ) -> None:
        self.pool = pool
        self.documents = documents
        self.settings = settings
        self.clock = clock
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("billing_service", "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
        )

    async def run_once(self, limit: int = 100) -> int:
        """Deliver what is due; the number of e-mails handled (sent or rescheduled)."""
        handled = 0
        while handled < limit and await self._deliver_one():
            handled += 1
        return handled

    async def _deliver_one(self) -> bool:
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            email = await repo.next_due(conn, now)
            if email is None:
                return False
            try:
                message = await self._compose(conn, email)
                await self._transport(message, email)
            except DELIVERY_ERRORS as error:
                await self._failed(conn, email, now, error)
                return True
            await repo.mark_sent(conn, email.id, now)
            await invoice_repo.add_history(
                conn, email.invoice_id, email.user_id, f"email_sent:{email.template}", None, None
            )
            log.info("email_sent", email_id=email.id, template=email.template)
            return True

    async def _failed(
        self, conn: asyncpg.Connection, email: OutgoingEmail, now: datetime, error: BaseException
    ) -> None:
        attempts = email.attempts + 1
        if attempts >= self.settings.mail_max_attempts:
            await repo.give_up(conn, email.id)
            await invoice_repo.add_history(
                conn, email.invoice_id, email.user_id, f"email_failed:{email.template}", None, None
            )
            log.error("email_failed", email_id=email.id, error=type(error).__name__)
            return
        await repo.retry_later(conn, email.id, now + backoff(attempts))
        log.warning("email_retry", email_id=email.id, attempts=attempts, error=type(error).__name__)

    async def _compose(self, conn: asyncpg.Connection, email: OutgoingEmail) -> EmailMessage:
        invoice = await invoice_repo.by_id(conn, email.invoice_id)
        detail = await self.documents.invoices.detail_of(conn, invoice, internal=False)
        doc = snapshot(detail, self.settings.document_locale)
        pdf = await self.documents.pdf.pdf(await self.documents.current(invoice))
        context = {"doc": doc, "custom_message": email.custom_message, "public_url": None}
        sender = (detail.invoicer or {}).get("company_entity") or "us"
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = email.to_email
        message["Subject"] = SUBJECTS[email.template].format(label=invoice.label, sender=sender)
        message["Date"] = format_datetime(self.clock())
        message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}", domain="invoicing")
        message.set_content(
            self.templates.get_template(f"email/{email.template}.txt").render(context)
        )
        message.add_alternative(
            self.templates.get_template(f"email/{email.template}.html").render(context),
            subtype="html",
        )
        message.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=f"{invoice.label}.pdf"
        )
        return message

    async def _transport(self, message: EmailMessage, email: OutgoingEmail) -> None:
        settings = self.settings
        if not settings.smtp_host:
            await asyncio.to_thread(self._write_eml, message, email)
            return
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password.get_secret_value() or None,
            start_tls=settings.smtp_starttls,
            timeout=15,
        )

    def _write_eml(self, message: EmailMessage, email: OutgoingEmail) -> None:
        """The file transport: an .eml file per e-mail, written whole or not at all."""
        directory = Path(self.settings.mail_dir)
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=directory, delete=False, suffix=".tmp") as file:
            file.write(message.as_bytes())
        os.replace(file.name, directory / f"{email.id:08d}-{email.template}.eml")

    async def run_forever(self, interval: float) -> None:
        while True:
            try:
                await self.run_once()
            except (asyncpg.PostgresError, OSError):
                log.warning("mailer_pass_failed", exc_info=True)
            await asyncio.sleep(interval)
