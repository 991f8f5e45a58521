import pytest
from pydantic import ValidationError

from auth_service.settings import Settings
from shared.settings import is_placeholder_secret


def test_placeholder_secrets_are_refused_outside_development():
    with pytest.raises(ValidationError, match="INTERNAL_SECRET"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="INTERNAL_SECRET"):
        Settings(environment="production", internal_secret="change-me-please-1234")
    _production()  # real secrets: accepted (raises nothing)
    # Development runs on the placeholder, the very value production refuses.
    default = Settings(environment="development").internal_secret.get_secret_value()
    assert is_placeholder_secret(default)


def _production(**values):
    return Settings(
        environment="production",
        internal_secret="k" * 32,
        database_url=f"postgresql://auth:{'p' * 32}@db/auth",
        redis_url=f"redis://:{'r' * 32}@redis:6379/0",
        **values,
    )


@pytest.mark.parametrize(
    ("field", "cheap"), [("password_hash_time_cost", 1), ("password_hash_memory_cost", 8)]
)
def test_cheap_password_hashing_is_refused_outside_development_and_test(field, cheap):
    with pytest.raises(ValidationError, match=field.upper()):
        _production(**{field: cheap, "password_hash_parallelism": 1})
    for environment in ("development", "test"):
        settings = Settings(
            environment=environment, **{field: cheap, "password_hash_parallelism": 1}
        )
        assert getattr(settings, field) == cheap


def test_password_hashing_defaults_are_accepted_in_production():
    settings = _production()
    assert (settings.password_hash_time_cost, settings.password_hash_memory_cost) == (3, 65536)


def test_password_hash_memory_below_eight_kib_per_lane_is_refused_everywhere():
    with pytest.raises(ValidationError, match="PASSWORD_HASH_MEMORY_COST"):
        Settings(environment="test", password_hash_memory_cost=16, password_hash_parallelism=4)


def test_hashes_carry_the_configured_cost_and_older_costs_are_upgraded():
    from auth_service.services.passwords import PasswordHasher

    cheap = PasswordHasher.from_settings(
        Settings(
            environment="test",
            password_hash_time_cost=1,
            password_hash_memory_cost=8,
            password_hash_parallelism=1,
        )
    )
    stored = cheap.hash_sync("secret")
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert not cheap.needs_rehash(stored)
    assert PasswordHasher.from_settings(Settings(environment="test")).needs_rehash(stored)
