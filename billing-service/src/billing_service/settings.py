from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    database_url: str = "postgresql://postgres:postgres@localhost:5432/billing"
    auth_url: str = "http://localhost:8001"
    auth_jwks_url: str = "http://localhost:8001/internal/jwks"
    internal_secret: SecretStr = SecretStr("dev-only-internal-secret")
    db_pool_size: int = 10
    # The scheduler (recurring runs, scheduled -> due) runs in every replica; SKIP LOCKED and a
    # unique index keep its work exactly-once.
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = 30.0

    secret_fields: ClassVar[tuple[str, ...]] = ("internal_secret",)
