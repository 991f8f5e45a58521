from __future__ import annotations

import ipaddress
import math
from typing import ClassVar

from pydantic import PositiveFloat, PositiveInt, SecretStr, field_validator, model_validator

from shared.settings import PublicBaseUrl, ServiceSettings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """`WEBHOOK_ALLOWED_NETWORKS`: comma-separated CIDRs ('127.0.0.0/8, 10.1.0.0/16')."""
    return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


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
    # Outbound e-mail quotas: sends of one invoice per window, and of one customer's statement
    # (checked under the invoice's or the customer's row lock, so concurrent sends queue
    # exactly this many), and e-mails per company per hour
    # (refused at the API once queued; deliveries over it wait in the outbox).
    mail_invoice_sends_per_window: PositiveInt = 1
    mail_invoice_window_seconds: PositiveInt = 60
    mail_company_hourly_cap: PositiveInt = 200
    # Across all of a user's companies: making another company buys no more e-mail.
    mail_user_hourly_cap: PositiveInt = 500
    # The scheduler (recurring runs, scheduled -> due) runs in every replica; SKIP LOCKED and a
    # unique index keep its work exactly-once.
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = 30.0
    # A row (template period, scheduled invoice) failing this often is set aside: a template
    # is paused, a scheduled invoice given up (both with a history entry).
    scheduler_max_attempts: PositiveInt = 5
    # Recurring catch-up is bounded: periods of one template per pass, and how far back a
    # missed period is still billed (older ones are skipped, with a history entry).
    recurring_catchup_per_pass: PositiveInt = 10
    recurring_max_backfill_days: PositiveInt = 90
    # Rows of one company the scheduler handles per pass (fairness between tenants).
    scheduler_company_share_per_pass: int = 100
    # /readyz fails when a loop has not completed a pass for this many of its intervals
    # (never sooner than a minute).
    loop_stale_intervals: PositiveFloat = 5.0
    # Webhooks. Signing secrets are stored sealed with this key (placeholder refused outside
    # development; changing it makes every endpoint's secret unusable: rotate them after).
    webhook_secret_key: SecretStr = SecretStr("dev-only-webhook-secret-key")
    webhooks_enabled: bool = True  # this replica runs the delivery loop
    webhook_interval_seconds: PositiveFloat = 1.0
    # Webhooks never reach a loopback, private or link-local address (checked at connect
    # time) unless its network is listed here: comma-separated CIDRs, e.g. '10.20.0.0/16'.
    webhook_allowed_networks: str = ""
    # Plain http:// endpoint URLs; unset: only in development.
    webhook_allow_http: bool | None = None
    webhook_timeout_seconds: PositiveFloat = 10.0  # a 2xx within this is a success
    webhook_concurrency: PositiveInt = 32  # requests in flight per replica
    webhook_connections_per_host: PositiveInt = 8
    webhook_batch: PositiveInt = 32  # deliveries claimed at once (a pass claims a few times)
    # A claimed delivery is not claimed again for this long (its attempt's lease): more than
    # its batch takes at worst, so only a replica that died mid-attempt gives them back.
    webhook_lease_seconds: PositiveFloat = 60.0
    webhook_disable_after_days: PositiveFloat = 5.0  # failing this long disables an endpoint
    webhook_max_response_bytes: PositiveInt = 4096  # of a receiver's answer, read and kept
    events_retention_days: PositiveInt = 30
    # Each event is one delivery per subscribed endpoint: a company's endpoints are bounded.
    webhook_endpoints_per_company: PositiveInt = 20
    events_prune_batch: PositiveInt = 1000  # events deleted per pass, at most

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        parse_networks(value)  # a typo fails at start, not at the first delivery
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_batch(self) -> Settings:
        # A claimed batch goes out in waves of webhook_concurrency requests; the last wave must
        # be answered (or time out) before the lease ends, or another replica takes it too.
        waves = math.ceil(self.webhook_batch / self.webhook_concurrency)
        if self.webhook_lease_seconds <= waves * self.webhook_timeout_seconds:
            raise ValueError(
                "WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_TIMEOUT_SECONDS times "
                "ceil(WEBHOOK_BATCH / WEBHOOK_CONCURRENCY)"
            )
        return self

    secret_fields: ClassVar[tuple[str, ...]] = ("internal_secret", "webhook_secret_key")
    url_password_fields: ClassVar[dict[str, bool]] = {"database_url": False}
