"""ENVIRONMENT=production refuses every placeholder docker-compose.yml ships with.

Each service's settings are built from the environment that `docker compose config` gives it,
so the test reads the compose file exactly as compose itself does."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from auth_service.settings import Settings as AuthSettings
from billing_service.platform.settings import Settings as BillingSettings
from gateway.settings import Settings as GatewaySettings
from pdf_service.settings import Settings as PdfSettings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS: dict[str, Any] = {
    "auth-service": AuthSettings,
    "billing-service": BillingSettings,
    "pdf-service": PdfSettings,
    "gateway": GatewaySettings,
}
# What a deployer sets for production (README, "Production").
REAL = {
    "ENVIRONMENT": "production",
    "INTERNAL_SECRET": "3f9c1b7e2d4a6c8e0b1d3f5a7c9e1b3d",
    "URL_SIGNING_SECRET": "8a6c4e2f0d1b3a5c7e9f1b3d5a7c9e0f",
    "WEBHOOK_SECRET_KEY": "5e7a9c1b3d5f7a9c2e4b6d8f0a2c4e6b",
    "POSTGRES_PASSWORD": "0d2f4b6a8c1e3a5c7e9b1d3f5a7c9e2b",
    "REDIS_PASSWORD": "7c5a3e1f9d2b4c6e8a0f2d4b6c8e0a1d",
    "DEMO_USER_EMAIL": "",
}


def compose_environments(overrides: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each service's environment as compose resolves it with these variables set."""
    variables = {
        name: value
        for name, value in os.environ.items()
        if name not in REAL and not name.startswith("COMPOSE_")
    }
    done = subprocess.run(
        ["docker", "compose", "-f", "docker-compose.yml", "config", "--format", "json"],
        cwd=ROOT,
        env=variables | overrides,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    services = json.loads(done.stdout)["services"]
    return {name: services[name].get("environment") or {} for name in SETTINGS}


def build(service: str, environment: dict[str, str]) -> object:
    values = {name.lower(): value for name, value in environment.items() if value is not None}
    return SETTINGS[service](**values)


def test_real_production_settings_start_every_service() -> None:
    for service, environment in compose_environments(REAL).items():
        assert build(service, environment).environment == "production"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("left_unset", "refused_by"),
    [
        ("INTERNAL_SECRET", {"auth-service", "billing-service", "pdf-service", "gateway"}),
        ("URL_SIGNING_SECRET", {"pdf-service"}),
        ("WEBHOOK_SECRET_KEY", {"billing-service"}),
        ("POSTGRES_PASSWORD", {"auth-service", "billing-service", "pdf-service"}),
        ("REDIS_PASSWORD", {"auth-service", "gateway"}),
        ("DEMO_USER_EMAIL", {"auth-service"}),
    ],
)
def test_each_compose_placeholder_is_refused_in_production(
    left_unset: str, refused_by: set[str]
) -> None:
    overrides = {name: value for name, value in REAL.items() if name != left_unset}
    refused = set()
    for service, environment in compose_environments(overrides).items():
        try:
            build(service, environment)
        except ValidationError as error:
            refused.add(service)
            assert "ENVIRONMENT=production" in str(error)
    assert refused == refused_by


def test_a_redis_without_password_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="REDIS_URL"):
        GatewaySettings(
            environment="production",
            internal_secret=REAL["INTERNAL_SECRET"],
            redis_url="redis://redis:6379/0",
        )


def test_a_database_password_of_the_default_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        BillingSettings(
            environment="production",
            internal_secret=REAL["INTERNAL_SECRET"],
            webhook_secret_key=REAL["WEBHOOK_SECRET_KEY"],
            database_url="postgresql://postgres:postgres@db:5432/billing",
        )


def test_development_keeps_the_placeholders() -> None:
    for service, environment in compose_environments({"ENVIRONMENT": "development"}).items():
        assert build(service, environment).environment == "development"  # type: ignore[attr-defined]


def test_a_refusal_never_echoes_the_secrets() -> None:
    internal_secret = "3f9c1b7e2d4a6c8e0b1d3f5a7c9e1b3d-never-printed"
    with pytest.raises(ValidationError) as refused:
        BillingSettings(
            environment="production",
            internal_secret=internal_secret,
            database_url="postgresql://postgres:postgres@db:5432/billing",
        )
    assert "never-printed" not in str(refused.value)
    assert "postgres@db" not in str(refused.value)
