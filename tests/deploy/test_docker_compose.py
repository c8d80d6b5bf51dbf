"""docker-compose.yml and the settings agree: services, shared image, variables."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "rfi" / "settings.py").read_text()
APP_SERVICES = ("web", "worker", "beat")


def test_the_stack_has_postgres_redis_web_worker_and_beat_with_health_checks():
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"
    assert COMPOSE["volumes"].keys() == {"postgres-data", "redis-data"}


def test_web_worker_and_beat_run_the_same_image():
    images = {COMPOSE["services"][name]["image"] for name in APP_SERVICES}
    builds = {COMPOSE["services"][name]["build"] for name in APP_SERVICES}
    assert len(images) == 1 and len(builds) == 1


def test_web_migrates_on_start_and_serves_with_gunicorn():
    command = COMPOSE["services"]["web"]["command"]
    assert command.index("migrate") < command.index("gunicorn")
    assert "celery" in " ".join(COMPOSE["services"]["worker"]["command"])
    assert "beat" in COMPOSE["services"]["beat"]["command"]


def test_every_variable_the_app_services_set_is_read_by_the_settings():
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', SETTINGS_SOURCE))
    for name in APP_SERVICES:
        environment = COMPOSE["services"][name]["environment"]
        unknown = set(environment) - read
        assert not unknown, f"{name} sets variables the settings never read: {unknown}"
        environment_text = str(environment)
        assert environment["DEBUG"] == "0"
        for required in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SECRET_KEY"):
            assert required in environment, f"{name} lacks {required}"
        assert "postgres:5432" in environment_text and "redis:6379" in environment_text


def test_the_database_url_matches_the_postgres_service():
    postgres = COMPOSE["services"]["postgres"]["environment"]
    url = COMPOSE["services"]["web"]["environment"]["DATABASE_URL"]
    assert url.startswith(f"postgres://{postgres['POSTGRES_USER']}:")
    assert url.endswith(f"@postgres:5432/{postgres['POSTGRES_DB']}")
