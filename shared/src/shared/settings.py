"""Settings base: every service reads its configuration from the environment only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

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


class FileSettingsSource(PydanticBaseSettingsSource):
    """Any setting `X` may instead name a file holding its value in `X_FILE`, the convention of
    Docker and Kubernetes secrets (mounted as files, so the value is in no environment, no
    `docker inspect` output and no process listing). One trailing line break is not part of
    the value. Setting both `X` and `X_FILE` is refused: which one wins would be a guess."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads every field at once

    def __call__(self) -> dict[str, Any]:
        environment = {name.upper(): value for name, value in os.environ.items()}
        values: dict[str, Any] = {}
        for field_name in self.settings_cls.model_fields:
            name = field_name.upper()
            path = environment.get(f"{name}_FILE")
            if path is None:
                continue
            if name in environment:
                raise SettingsError(f"{name} and {name}_FILE are both set: set only one")
            values[field_name] = _read_value_file(name, path)
        return values


def _read_value_file(name: str, path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        # The path and the reason only: never a line of what the file holds.
        raise SettingsError(f"{name}_FILE={path} cannot be read ({type(error).__name__})") from None
    return text.removesuffix("\n").removesuffix("\r")


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
    # SIGTERM: keep serving this long while /readyz says 503 (for balancers to notice), then
    # stop accepting and give the requests in flight (and the cleanup) this long each.
    shutdown_drain_seconds: float = Field(default=0.0, ge=0)
    shutdown_timeout_seconds: float = Field(default=20.0, gt=0)

    secret_fields: ClassVar[tuple[str, ...]] = ()
    # Connection URLs whose password must be real outside development; True where a URL
    # without any password is refused too (a Redis anyone on the network can use).
    url_password_fields: ClassVar[dict[str, bool]] = {}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            FileSettingsSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

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
