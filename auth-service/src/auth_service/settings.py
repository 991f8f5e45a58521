from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from shared.settings import ServiceSettings

# OWASP's minimum for argon2id (19 MiB, two passes), enforced outside development and test.
MIN_PASSWORD_HASH_TIME_COST = 2
MIN_PASSWORD_HASH_MEMORY_COST = 19456  # KiB


class Settings(ServiceSettings):
    database_url: str = "postgresql://postgres:postgres@localhost:5432/auth"
    redis_url: str = "redis://localhost:6379/0"
    internal_secret: SecretStr = SecretStr("dev-only-internal-secret")
    # Optional prefix before a token's secret (e.g. "inv_"), so secret scanners can spot leaks.
    token_prefix: str = ""
    identity_ttl_seconds: int = 300
    # Key under which the gateway caches a token's identity; revocation overwrites it.
    token_cache_prefix: str = "tok:"
    revocation_tombstone_seconds: int = 900
    failed_login_limit: int = 5
    failed_login_window_seconds: int = 60
    last_used_flush_seconds: float = 15.0
    demo_user_email: str | None = None
    demo_user_password: SecretStr | None = None
    demo_user_name: str = "Demo User"
    # argon2id cost for new hashes (RFC 9106's second recommendation by default). Hashes made
    # with other parameters are upgraded on the user's next login.
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_cost: int = Field(default=65536, ge=8)  # KiB
    password_hash_parallelism: int = Field(default=4, ge=1)

    secret_fields: ClassVar[tuple[str, ...]] = ("internal_secret",)
    url_password_fields: ClassVar[dict[str, bool]] = {"database_url": False, "redis_url": True}

    @model_validator(mode="after")
    def _demo_account_only_in_development(self) -> Settings:
        # The demo account's address and password are printed in the README: anywhere real,
        # it would be a known login.
        if self.demo_user_email and not self.is_development:
            raise ValueError(
                f"DEMO_USER_EMAIL must be empty when ENVIRONMENT={self.environment} "
                "(the demo account is for development only)"
            )
        return self

    @model_validator(mode="after")
    def _password_hashing_not_below_the_floor(self) -> Settings:
        if self.password_hash_memory_cost < 8 * self.password_hash_parallelism:
            raise ValueError("PASSWORD_HASH_MEMORY_COST must be at least 8 KiB per lane")
        # Cheap hashing is for tests; anywhere real, a leaked hash must stay costly to crack.
        if self.is_development:
            return self
        floors = {
            "password_hash_time_cost": MIN_PASSWORD_HASH_TIME_COST,
            "password_hash_memory_cost": MIN_PASSWORD_HASH_MEMORY_COST,
        }
        for name, floor in floors.items():
            if getattr(self, name) < floor:
                raise ValueError(
                    f"{name.upper()} must be at least {floor} when ENVIRONMENT={self.environment}"
                )
        return self
