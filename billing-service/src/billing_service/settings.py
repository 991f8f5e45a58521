from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from shared.settings import PublicBaseUrl, ServiceSettings


class Settings(ServiceSettings):
    database_url: str = "postgresql://postgres:postgres@localhost:5432/billing"
    auth_url: str = "http://localhost:8001"
    auth_jwks_url: str = "http://localhost:8001/internal/jwks"
    internal_secret: SecretStr = SecretStr("dev-only-internal-secret")
    db_pool_size: int = 10
    pdf_url: str = "http://localhost:8003"
    # The base of every absolute URL in answers (public_url, download_url, pagination links).
    public_base_url: PublicBaseUrl = "http://localhost:8080"
    # Money and dates on documents, pages and e-mails (a Babel locale).
    document_locale: str = "en_US"
    # The mailer: SMTP when smtp_host is set, else .eml files in mail_dir.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    mail_from: str = "Invoicing <invoices@localhost>"
    mail_dir: str = "mail-out"
    mailer_enabled: bool = True
    mailer_interval_seconds: float = 2.0
    mail_max_attempts: int = 10
    # The scheduler (recurring runs, scheduled -> due) runs in every replica; SKIP LOCKED and a
    # unique index keep its work exactly-once.
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = 30.0

    secret_fields: ClassVar[tuple[str, ...]] = ("internal_secret",)
    url_password_fields: ClassVar[dict[str, bool]] = {"database_url": False}
