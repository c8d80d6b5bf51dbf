"""The embedded default (no broker, tasks run in-process) says nothing it need not say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_task_run_in_process_prints_no_hostname_warning_and_no_task_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/db.sqlite3"

    run = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from rfi.tasks import enqueue, ping; print(enqueue(ping).get())",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert run.stdout.strip().splitlines()[-1] == "pong"
    assert "No hostname was supplied" not in run.stderr
    assert "rfi.ping" not in run.stderr
