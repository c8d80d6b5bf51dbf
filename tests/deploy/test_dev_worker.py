"""`python3 dev.py run` runs a Celery worker beside the site on a broker that needs no server."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_dev():
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_run_sends_tasks_through_the_filesystem_broker_without_a_result_backend():
    dev = load_dev()

    env = dev.background_environment({"PATH": "/usr/bin"})

    assert env["CELERY_BROKER_URL"] == "filesystem://"
    assert env["CELERY_RESULT_BACKEND"] == f"file://{ROOT / '.dev' / 'broker' / 'results'}"
    assert env["CELERY_BROKER_FOLDER"] == str(ROOT / ".dev" / "broker")


def test_a_broker_already_configured_is_kept():
    dev = load_dev()

    env = dev.background_environment({"CELERY_BROKER_URL": "redis://redis:6379/0"})

    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert "CELERY_RESULT_BACKEND" not in env


def test_the_worker_is_one_solo_process_of_the_rfi_app():
    command = load_dev().worker_command()

    assert command[1:6] == ["-m", "celery", "-A", "rfi", "worker"]
    assert "--pool=solo" in command


def test_the_settings_under_dev_run_are_not_eager_and_use_the_folder(tmp_path):
    dev = load_dev()
    env = dev.background_environment(
        {
            **os.environ,
            "CELERY_BROKER_FOLDER": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "rfi.settings",
        }
    )
    env.pop("CELERY_BROKER_URL", None)
    env = dev.background_environment(env)
    code = (
        "from django.conf import settings as s;"
        "print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_RESULT_BACKEND,"
        " s.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in'])"
    )
    out = (
        subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    assert out == f"False file://{tmp_path / 'results'} {tmp_path / 'queue'}"


def test_a_task_sent_by_the_site_runs_in_the_worker(tmp_path):
    dev = load_dev()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    env.update(
        CELERY_BROKER_FOLDER=str(tmp_path / "broker"),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    env = dev.background_environment(env)
    log = (tmp_path / "worker.log").open("w")
    for sub in ("queue", "control", "results"):
        (tmp_path / "broker" / sub).mkdir(parents=True)
    worker = subprocess.Popen(
        dev.worker_command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        answer = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from rfi.tasks import enqueue, ping; print(enqueue(ping).get(timeout=30))",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        # the answer came back through the file result backend (what /healthz asks)
        assert answer.stdout.strip().splitlines()[-1] == "pong"
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline:
            text = (tmp_path / "worker.log").read_text()
            if "succeeded" in text:
                break
            time.sleep(0.5)
        assert "rfi.ping" in text and "succeeded" in text, text[-2000:]
        assert "No hostname was supplied" not in text
    finally:
        dev.stop(worker)
        log.close()
    assert worker.returncode is not None
