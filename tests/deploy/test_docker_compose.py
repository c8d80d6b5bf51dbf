"""docker-compose.yml, the Dockerfile and the settings agree: the deployment as shipped.

scripts/deploy_smoke.py runs the stack (CI); these tests pin the facts it rests on.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SETTINGS_SOURCE = (ROOT / "rfi" / "settings.py").read_text()
GUNICORN_SOURCE = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("proxy", "postgres", "redis", "web", "worker", "beat")


def _mounts(service: str) -> dict[str, str]:
    """Container path -> volume name."""
    return {
        entry.split(":")[1]: entry.split(":")[0] for entry in SERVICES[service].get("volumes", [])
    }


def test_the_stack_has_a_proxy_postgres_redis_migrate_web_worker_and_beat():
    assert set(SERVICES) == {"proxy", "postgres", "redis", "migrate", "web", "worker", "beat"}
    for name in LONG_RUNNING:
        assert "healthcheck" in SERVICES[name], f"{name} has no health check"
    assert COMPOSE["volumes"].keys() == {
        "postgres-data",
        "redis-data",
        "media",
        "backups",
        "beat-schedule",
        "caddy-data",
        "caddy-config",
    }


def test_web_worker_and_beat_run_the_same_image():
    images = {SERVICES[name]["image"] for name in APP_SERVICES}
    builds = {SERVICES[name]["build"] for name in APP_SERVICES}
    assert len(images) == 1 and len(builds) == 1


def test_web_and_worker_share_the_uploads_volume_at_media_root():
    for name in ("web", "worker"):
        media_root = SERVICES[name]["environment"]["MEDIA_ROOT"]
        assert _mounts(name)[media_root] == "media", f"{name} does not mount media at MEDIA_ROOT"


def test_migrations_run_once_in_a_one_shot_service_before_web_worker_and_beat():
    migrate = SERVICES["migrate"]
    command = " ".join(migrate["command"])
    assert migrate["restart"] == "no"
    assert command.index("migrate --no-input") < command.index("seed_reference")
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert "migrate" not in " ".join(SERVICES[name]["command"])


def test_gunicorn_and_celery_run_as_the_containers_main_process():
    # exec form, no shell: SIGTERM reaches gunicorn and the worker themselves
    assert SERVICES["web"]["command"][0] == "gunicorn"
    assert "--config" in SERVICES["web"]["command"]
    assert SERVICES["worker"]["command"][:2] == ["celery", "-A"]
    assert SERVICES["beat"]["command"][:2] == ["celery", "-A"]
    assert 'CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py"' in DOCKERFILE


def test_the_worker_takes_one_task_at_a_time_and_gets_two_minutes_to_stop():
    command = SERVICES["worker"]["command"]
    assert command[command.index("-O") + 1] == "fair"
    assert "--prefetch-multiplier=1" in command
    assert SERVICES["worker"]["stop_grace_period"] == "120s"


def test_beat_keeps_its_schedule_in_a_named_volume():
    schedule = next(a for a in SERVICES["beat"]["command"] if a.startswith("--schedule="))
    path = schedule.split("=", 1)[1]
    folder = str(Path(path).parent)
    assert _mounts("beat")[folder] == "beat-schedule"


def test_the_web_health_check_allows_for_start_up():
    assert SERVICES["web"]["healthcheck"]["start_period"]


def test_only_the_proxy_publishes_ports_and_only_it_may_set_forwarded_headers():
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"proxy"}
    proxy_address = SERVICES["proxy"]["networks"]["default"]["ipv4_address"]
    assert SERVICES["web"]["environment"]["FORWARDED_ALLOW_IPS"] == proxy_address
    assert SERVICES["web"]["environment"]["NUM_PROXIES"] == "1"  # the client: its XFF entry
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert re.search(r"^\s*request_buffers \d+MB", caddyfile, re.M)  # slow uploads buffered


def test_every_app_service_reads_the_env_file():
    for name in APP_SERVICES:
        assert SERVICES[name]["env_file"] == [".env"], name


def test_the_env_example_names_every_setting_the_readme_lists():
    readme = (ROOT / "README.md").read_text()
    production = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    listed = set()
    for row in production.splitlines():
        if row.startswith("| `"):
            listed |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1]))
    assert {"SITE_URL", "DEFAULT_FROM_EMAIL", "EMAIL_PORT", "OCDS_OCID_PREFIX"} <= listed
    example = (ROOT / "deploy" / "env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    set_by_compose = set(SERVICES["web"]["environment"])
    assert listed - named - set_by_compose == set()


def test_every_variable_the_app_services_set_is_read_by_the_settings_or_gunicorn():
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_0-9]+)"', SETTINGS_SOURCE))
    read |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z_0-9]+)"', GUNICORN_SOURCE))
    for name in APP_SERVICES:
        environment = SERVICES[name]["environment"]
        unknown = set(environment) - read
        assert not unknown, f"{name} sets variables the settings never read: {unknown}"
        environment_text = str(environment)
        assert environment["DEBUG"] == "0"
        for required in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SECRET_KEY"):
            assert required in environment, f"{name} lacks {required}"
        assert "postgres:5432" in environment_text and "redis:6379" in environment_text


def test_the_database_url_matches_the_postgres_service():
    postgres = SERVICES["postgres"]["environment"]
    url = SERVICES["web"]["environment"]["DATABASE_URL"]
    assert url.startswith(f"postgres://{postgres['POSTGRES_USER']}:")
    assert url.endswith(f"@postgres:5432/{postgres['POSTGRES_DB']}")


def test_the_image_builds_static_files_with_the_production_settings():
    collectstatic = next(line for line in DOCKERFILE.splitlines() if "collectstatic" in line)
    assert "DEBUG=0" in collectstatic
    assert "staticfiles.json" in DOCKERFILE


def test_the_image_leaves_out_uploads_environments_and_local_databases():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in ("media", ".venv", "db.sqlite3*", ".env", "backups", ".git"):
        assert entry in ignored, entry
