"""The settings switch: embedded with no variables, production with them.

Each case imports the settings in a fresh interpreter, because settings are
read from the environment once, at import.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PROJECT_ROOT = Path(settings.BASE_DIR)
CONFIG_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
)
PRODUCTION = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DEBUG": "0",
    "ALLOWED_HOSTS": "example.org",
}
REPORT = """
import json
from django.conf import settings
from rfi.celery import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "app_eager": app.conf.task_always_eager,
    "cache": settings.CACHES["default"]["BACKEND"],
    "debug": settings.DEBUG,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "session_cookie_secure": getattr(settings, "SESSION_COOKIE_SECURE", False),
    "csrf_cookie_secure": getattr(settings, "CSRF_COOKIE_SECURE", False),
    "hsts": getattr(settings, "SECURE_HSTS_SECONDS", 0),
    "ssl_redirect": getattr(settings, "SECURE_SSL_REDIRECT", False),
}))
"""


def _environment(**variables: str) -> dict[str, str]:
    # DJANGO_ALLOW_ASYNC_UNSAFE: a test harness switch that --deploy rightly flags.
    dropped = {*CONFIG_VARIABLES, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["DJANGO_SETTINGS_MODULE"] = "rfi.settings"
    env.update(variables)
    return env


def _python(code: str, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=_environment(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _settings_with(**variables: str) -> dict:
    process = _python(REPORT, **variables)
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout.strip().splitlines()[-1])


def test_no_variables_runs_embedded():
    report = _settings_with()

    assert report["engine"] == "django.db.backends.sqlite3"
    assert report["eager"] is True
    assert report["app_eager"] is True
    assert report["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert report["debug"] is True
    assert report["session_cookie_secure"] is False


def test_production_variables_switch_everything():
    report = _settings_with(**PRODUCTION)

    assert report["engine"] == "django.db.backends.postgresql"
    assert report["eager"] is False
    assert report["app_eager"] is False
    assert report["cache"] == "rfi.cache.ResilientRedisCache"
    assert report["debug"] is False
    assert report["allowed_hosts"] == ["example.org"]
    assert report["session_cookie_secure"] is True
    assert report["csrf_cookie_secure"] is True
    assert report["ssl_redirect"] is True
    assert report["hsts"] > 0


def test_production_without_a_secret_key_refuses_to_start():
    variables = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}

    process = _python(REPORT, **variables)

    assert process.returncode != 0
    assert "ImproperlyConfigured" in process.stderr
    assert "SECRET_KEY" in process.stderr


@pytest.mark.parametrize("debug", ["0", "false", "False", "off"])
def test_debug_off_spellings(debug):
    report = _settings_with(**{**PRODUCTION, "DEBUG": debug})

    assert report["debug"] is False


def test_deploy_check_passes_with_production_variables():
    process = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env=_environment(**PRODUCTION),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert process.returncode == 0, process.stdout + process.stderr
    assert "no issues" in process.stdout
