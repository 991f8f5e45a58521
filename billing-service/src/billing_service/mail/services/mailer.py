"""The mailer: delivers the e-mail outbox, in every replica, one e-mail per transaction.

Each e-mail is taken with FOR UPDATE SKIP LOCKED and marked sent in the same transaction as
the delivery, so replicas never send one twice at once and none is lost: whatever goes wrong
with one e-mail (the SMTP server down, a row that cannot be composed) is recorded on it, and
it is retried with exponential backoff (then marked failed) while the others go on. Each
delivery and each giving up is announced as an `email.delivered` / `email.failed` event in the
same transaction. Notices about no invoice (a webhook endpoint disabled) are composed from
the context stored with them, without a PDF. An e-mail
over its company's hourly cap waits in the outbox. The one window left is a crash after the
SMTP server accepted and before the commit; the Message-ID is derived from the outbox row, so
a receiving system can drop that duplicate.

Headers are built only from values folded to one line, through the e-mail library's header
and address classes: no stored label, company name or address can inject a header.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any, cast

import aiosmtplib
import asyncpg
import jinja2

from billing_service.companies import repositories as company_repo
from billing_service.documents.services.documents import DocumentService
from billing_service.documents.services.einvoices import EinvoiceService
from billing_service.documents.services.snapshot import snapshot
from billing_service.einvoice.requirements import Format
from billing_service.events.services import EventLog, document_subject
from billing_service.invoices.repositories import invoices as invoice_repo
from billing_service.invoices.repositories.detail import InvoiceDetail
from billing_service.mail import repositories as repo
from billing_service.mail.repositories import OutgoingEmail
from billing_service.mail.services.quota import MailQuota
from billing_service.platform.loops import (
    BY_HAND,
    DEFERRED,
    DONE,
    FAILED,
    LoopContext,
    describe,
    next_attempt,
    single_line,
)
from billing_service.platform.settings import Settings
from shared.clock import Clock
from shared.errors import ValidationFailed
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
# E-mails about no invoice: their subject is formatted with their stored context.
NOTICE_SUBJECTS = {
    "webhook-disabled": "A webhook endpoint of {company} was disabled",
    "customer-statement": "Statement of account from {company}",
}


def header_text(text: str) -> str:
    """A value for a header: one line, and no "=?" that would open an RFC 2047 encoded word
    (which the reader decodes: into anything, line breaks included)."""
    return single_line(text).replace("=?", "= ?")


def sender_address(mail_from: str) -> Address:
    """The From address of the settings, its display name folded to one line."""
    name, address = parseaddr(mail_from)
    if "@" not in address:
        raise ValueError("MAIL_FROM needs an address, e.g. 'Invoicing <invoices@example.com>'")
    return Address(display_name=single_line(name), addr_spec=single_line(address))


class Mailer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        documents: DocumentService,
        settings: Settings,
        clock: Clock,
        events: EventLog,
    ) -> None:
        self.pool = pool
        self.documents = documents
        self.events = events
        self.einvoices = EinvoiceService(documents)
        self.settings = settings
        self.clock = clock
        self.quota = MailQuota.from_settings(settings)
        self.sender = sender_address(settings.mail_from)  # a bad MAIL_FROM fails at start
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("billing_service", "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
        )

    async def run_once(self, loop: LoopContext = BY_HAND, limit: int = 100) -> int:
        """Deliver what is due; the number of e-mails handled (sent or rescheduled)."""
        handled = 0
        while handled < limit and not loop.stop_requested() and await self._deliver_one(loop):
            handled += 1
        return handled

    async def _deliver_one(self, loop: LoopContext) -> bool:
        """One due e-mail delivered, deferred or failed; False when none is due."""
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            email = await repo.next_due(conn, now)
            if email is None:
                return False
            slot = await self.quota.delivery_slot(conn, email.company_id, now)
            if slot is not None:
                await repo.defer(conn, email.id, slot)
                loop.count_row(DEFERRED)
                log.info("email_deferred_over_company_cap", email_id=email.id)
                return True
            try:
                async with conn.transaction():  # a savepoint: a failure keeps the row lock
                    await self._deliver(conn, email, now)
            except Exception as error:
                loop.count_row(FAILED)
                await self._failed(conn, email, now, error)
                return True
            loop.count_row(DONE)
            log.info("email_sent", email_id=email.id, template=email.template)
            return True

    async def _deliver(self, conn: asyncpg.Connection, email: OutgoingEmail, now: datetime) -> None:
        message = await self._compose(conn, email)
        await self._transport(message, email)
        await repo.mark_sent(conn, email.id, now)
        await self._history(conn, email, "email_sent")
        await self._announce(conn, email, "email.delivered", attempts=email.attempts + 1)

    async def _failed(
        self, conn: asyncpg.Connection, email: OutgoingEmail, now: datetime, error: Exception
    ) -> None:
        attempts, reason = email.attempts + 1, describe(error)
        retry_at = next_attempt(attempts, self.settings.mail_max_attempts, now)
        if retry_at is not None:
            await repo.retry_later(conn, email.id, retry_at, reason)
            log.warning("email_retry", email_id=email.id, attempts=attempts, error=reason)
            return
        await repo.give_up(conn, email.id, reason)
        await self._history(conn, email, "email_failed")
        await self._announce(conn, email, "email.failed", attempts=attempts, error=reason)
        log.error("email_failed", email_id=email.id, attempts=attempts, error=reason)

    async def _compose(self, conn: asyncpg.Connection, email: OutgoingEmail) -> EmailMessage:
        if email.invoice_id is None:
            return await self._compose_notice(email)
        invoice = await invoice_repo.by_id(conn, email.invoice_id)
        detail = await self.documents.invoices.detail_of(conn, invoice, internal=False)
        doc = snapshot(detail, self.settings.document_locale)
        context = {"doc": doc, "custom_message": email.custom_message, "public_url": None}
        label = header_text(invoice.label)
        attachment, media_type, filename = await self._attachment(conn, email, detail, label)
        sender = header_text((detail.invoicer or {}).get("company_entity") or "") or "us"
        subject = SUBJECTS[email.template].format(label=label, sender=sender)
        message = self._message(email, subject, context)
        maintype, _, subtype = media_type.partition("/")
        message.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=filename)
        return message

    async def _compose_notice(self, email: OutgoingEmail) -> EmailMessage:
        """An e-mail about no invoice: its template shows the context stored with it, and a
        document stored at pdf-service that the context names (a statement) is attached."""
        context = email.context or {}
        values = {key: header_text(str(value)) for key, value in context.items()}
        subject = NOTICE_SUBJECTS[email.template].format(**values)
        message = self._message(email, subject, context | {"custom_message": email.custom_message})
        attachment = context.get("attachment")
        if isinstance(attachment, dict):
            pdf = await self.documents.pdf.pdf(str(attachment["document_id"]))
            filename = header_text(str(attachment["filename"]))
            message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
        return message

    def _message(self, email: OutgoingEmail, subject: str, context: dict[str, Any]) -> EmailMessage:
        """The message's headers and its text and HTML bodies, from the e-mail's template."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = Address(addr_spec=single_line(email.to_email))
        message["Subject"] = subject
        message["Date"] = format_datetime(self.clock())
        message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}", domain="invoicing")
        message.set_content(
            self.templates.get_template(f"email/{email.template}.txt").render(context)
        )
        message.add_alternative(
            self.templates.get_template(f"email/{email.template}.html").render(context),
            subtype="html",
        )
        return message

    async def _history(self, conn: asyncpg.Connection, email: OutgoingEmail, what: str) -> None:
        """On the invoice's history, for an e-mail about one."""
        if email.invoice_id is not None:
            await invoice_repo.add_history(
                conn, email.invoice_id, email.user_id, f"{what}:{email.template}", None, None
            )

    async def _announce(
        self, conn: asyncpg.Connection, email: OutgoingEmail, event_type: str, **data: Any
    ) -> None:
        """The email.delivered / email.failed event, in the transaction that marks it so."""
        invoice_id = email.invoice_id
        body = {
            "id": email.id,
            "invoice_id": invoice_id,
            "template": email.template,
            "to": email.to_email,
        }
        subject = document_subject(invoice_id) if invoice_id is not None else None
        await self.events.record(conn, email.company_id, event_type, body | data, subject=subject)

    async def _attachment(
        self, conn: asyncpg.Connection, email: OutgoingEmail, detail: InvoiceDetail, label: str
    ) -> tuple[bytes, str, str]:
        """The invoice's PDF; for `invoice-issued`, the e-invoice its company sets instead
        (the PDF still, and a warning, when the invoice lacks what that format needs)."""
        invoice = detail.invoice
        if email.template == "invoice-issued":
            chosen = await company_repo.einvoice_format(conn, invoice.company_id)
            if chosen is not None:
                try:
                    made = await self.einvoices.file(detail, cast(Format, chosen))
                    return made.body, made.media_type, made.filename
                except ValidationFailed as gaps:
                    log.warning(
                        "einvoice_not_attached", email_id=email.id, fields=sorted(gaps.errors or {})
                    )
        pdf = await self.documents.pdf.pdf(await self.documents.current(invoice))
        return pdf, "application/pdf", f"{label}.pdf"

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
        data = message.as_bytes()  # before any file exists: a message that cannot be written
        with tempfile.NamedTemporaryFile("wb", dir=directory, delete=False, suffix=".tmp") as file:
            try:
                file.write(data)
            except BaseException:
                os.unlink(file.name)
                raise
        os.replace(file.name, directory / f"{email.id:08d}-{email.template}.eml")
