import pytest
from pydantic import ValidationError

from auth_service.settings import Settings


def test_placeholder_secrets_are_refused_outside_development():
    with pytest.raises(ValidationError, match="INTERNAL_SECRET"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="INTERNAL_SECRET"):
        Settings(environment="production", internal_secret="change-me-please-1234")
    real = Settings(
        environment="production",
        internal_secret="k" * 32,
        database_url=f"postgresql://auth:{'p' * 32}@db/auth",
        redis_url=f"redis://:{'r' * 32}@redis:6379/0",
    )
    assert real.environment == "production"
    assert Settings(environment="development").internal_secret.get_secret_value()
