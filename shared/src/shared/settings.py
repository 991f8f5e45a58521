"""Settings base: every service reads its configuration from the environment only."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "test"})
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "insecure", "example", "dev-only")


def is_placeholder_secret(value: str) -> bool:
    """A secret that is empty, short, or carries an obvious placeholder marker."""
    lowered = value.lower()
    return len(value) < 16 or any(marker in lowered for marker in _PLACEHOLDER_MARKERS)


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("must be an absolute http(s) URL without query or fragment")
    return value.rstrip("/")


# The URL clients reach the platform at, e.g. https://billing.example.com (no trailing slash).
PublicBaseUrl = Annotated[str, AfterValidator(_base_url)]


class ServiceSettings(BaseSettings):
    """Fields every service has. Subclasses list their secrets in `secret_fields`."""

    # Errors never echo the input: it holds the secrets.
    model_config = SettingsConfigDict(
        extra="ignore", case_sensitive=False, hide_input_in_errors=True
    )

    environment: Literal["development", "test", "staging", "production"] = "development"
    host: str = "0.0.0.0"  # noqa: S104 - services listen inside their container network
    port: int = 8000
    workers: int = 1  # processes sharing the port; one per core for CPU-bound services
    log_level: str = "INFO"
    log_json: bool = True

    secret_fields: ClassVar[tuple[str, ...]] = ()
    # Connection URLs whose password must be real outside development; True where a URL
    # without any password is refused too (a Redis anyone on the network can use).
    url_password_fields: ClassVar[dict[str, bool]] = {}

    @model_validator(mode="after")
    def _reject_placeholder_secrets(self) -> ServiceSettings:
        if self.environment in DEVELOPMENT_ENVIRONMENTS:
            return self
        for name in self.secret_fields:
            value = getattr(self, name)
            raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value or "")
            if is_placeholder_secret(raw):
                raise ValueError(
                    f"{name.upper()} must be set to a real secret (16+ characters, no "
                    f"placeholder) when ENVIRONMENT={self.environment}"
                )
        for name, required in self.url_password_fields.items():
            self._check_url_password(name, required)
        return self

    def _check_url_password(self, name: str, required: bool) -> None:
        password = urlsplit(str(getattr(self, name))).password
        if password is None and not required:
            return  # e.g. PostgreSQL with certificate or .pgpass authentication
        if password is None or is_placeholder_secret(password):
            raise ValueError(
                f"{name.upper()} must carry a real password (16+ characters, no placeholder) "
                f"when ENVIRONMENT={self.environment}"
            )

    @property
    def is_development(self) -> bool:
        return self.environment in DEVELOPMENT_ENVIRONMENTS
