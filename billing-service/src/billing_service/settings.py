from __future__ import annotations

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    database_url: str = "postgresql://postgres:postgres@localhost:5432/billing"
    auth_jwks_url: str = "http://localhost:8001/internal/jwks"
    db_pool_size: int = 10
