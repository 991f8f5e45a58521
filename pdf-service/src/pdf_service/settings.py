from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    database_url: str = "postgresql://postgres:postgres@localhost:5432/pdf"
    auth_jwks_url: str = "http://localhost:8001/internal/jwks"
    url_signing_secret: SecretStr = SecretStr("dev-only-url-signing-secret")

    secret_fields: ClassVar[tuple[str, ...]] = ("url_signing_secret",)
