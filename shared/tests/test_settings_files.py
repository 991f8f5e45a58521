"""Every setting `X` may come from the file named by `X_FILE` (Docker and Kubernetes secrets)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import SettingsError

from billing_service.platform.settings import Settings as BillingSettings
from gateway.settings import Settings as GatewaySettings

REAL_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INTERNAL_SECRET", "REDIS_URL", "DATABASE_URL", "WEBHOOK_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


def secret_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_secrets_come_from_files_and_pass_the_production_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_url = f"redis://:{REAL_SECRET}@redis:6379/0"
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv(
        "INTERNAL_SECRET_FILE", secret_file(tmp_path, "internal", REAL_SECRET + "\n")
    )
    monkeypatch.setenv("REDIS_URL_FILE", secret_file(tmp_path, "redis", redis_url + "\r\n"))

    settings = GatewaySettings()

    # One trailing line break (as `echo` or an editor leaves it) is not part of the value.
    assert settings.internal_secret.get_secret_value() == REAL_SECRET
    assert settings.redis_url == redis_url


def test_any_setting_can_come_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://billing:pw@db.internal:5432/billing"
    monkeypatch.setenv("database_url_file", secret_file(tmp_path, "db", url))

    assert BillingSettings().database_url == url


def test_a_placeholder_in_a_file_is_refused_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("REDIS_URL", f"redis://:{REAL_SECRET}@redis:6379/0")
    monkeypatch.setenv("INTERNAL_SECRET_FILE", secret_file(tmp_path, "internal", "dev-only-x\n"))

    with pytest.raises(ValueError, match="INTERNAL_SECRET must be set to a real secret"):
        GatewaySettings()


def test_both_the_value_and_its_file_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERNAL_SECRET", REAL_SECRET)
    monkeypatch.setenv("INTERNAL_SECRET_FILE", secret_file(tmp_path, "internal", REAL_SECRET))

    with pytest.raises(SettingsError, match="INTERNAL_SECRET and INTERNAL_SECRET_FILE"):
        GatewaySettings()


def test_an_unreadable_file_is_named_and_its_content_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERNAL_SECRET_FILE", str(tmp_path / "missing"))

    with pytest.raises(SettingsError, match=r"INTERNAL_SECRET_FILE=.*missing cannot be read"):
        GatewaySettings()

    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe" + REAL_SECRET.encode())
    monkeypatch.setenv("INTERNAL_SECRET_FILE", str(binary))
    with pytest.raises(SettingsError) as raised:
        GatewaySettings()
    assert REAL_SECRET not in str(raised.value)
