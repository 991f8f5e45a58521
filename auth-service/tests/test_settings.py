import pytest
from pydantic import ValidationError

from auth_service.settings import Settings


def test_placeholder_secrets_are_refused_outside_development():
    with pytest.raises(ValidationError, match="INTERNAL_SECRET"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="INTERNAL_SECRET"):
        Settings(environment="production", internal_secret="change-me-please-1234")
    assert Settings(environment="production", internal_secret="k" * 32).environment == "production"
    assert Settings(environment="development").internal_secret.get_secret_value()
