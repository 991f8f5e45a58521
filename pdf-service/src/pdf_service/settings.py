from __future__ import annotations

import os
from typing import ClassVar

from pydantic import SecretStr

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    database_url: str = "postgresql://postgres:postgres@localhost:5432/pdf"
    auth_jwks_url: str = "http://localhost:8001/internal/jwks"
    internal_secret: SecretStr = SecretStr("dev-only-internal-secret")
    url_signing_secret: SecretStr = SecretStr("dev-only-url-signing-secret")
    # Rendering is CPU work: it runs in this many worker processes, never on the event loop.
    render_workers: int = max(1, os.cpu_count() or 1)
    link_ttl_seconds: int = 900

    secret_fields: ClassVar[tuple[str, ...]] = ("internal_secret", "url_signing_secret")
    url_password_fields: ClassVar[dict[str, bool]] = {"database_url": False}
