"""The nightly KPI recompute, run by a real `celery worker` against the test PostgreSQL database.

The session's shared worker (tests/integration/conftest.py) talks to the database named in
the environment; this module starts its own worker on the *test* database, so the task
reads the fixture this test committed and writes snapshots the test then reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from kpi.models import KpiRun, KpiSnapshot
from rfi.celery import app
from rfi.tasks import enqueue
from tests.integration.conftest import BROKER_URL, ROOT, _missing, _reachable, _reset_connections
from tests.kpi import kpi_data

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the worker is another process: it cannot open the test run's in-memory "
        "SQLite database; run with DATABASE_URL=postgres://…",
    ),
]

QUEUE = f"rfi-kpi-nightly-{os.getpid()}"


def _reset() -> None:
    _reset_connections()


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def kpi_worker(tmp_path, transactional_db):
    if not _reachable(BROKER_URL):
        _missing(f"Redis is not reachable at {BROKER_URL}")
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),  # the test database, not the one in the environment
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_RESULT_BACKEND": BROKER_URL,
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "rfi", "worker", "-P", "solo", "-c", "1"]
            + ["-Q", QUEUE, "--loglevel=INFO", "-n", f"{QUEUE}@%h"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    saved = {
        k: app.conf[k]
        for k in ("task_always_eager", "broker_url", "result_backend", "task_default_queue")
    }
    app.conf.update(
        task_always_eager=False,
        broker_url=BROKER_URL,
        result_backend=BROKER_URL,
        task_default_queue=QUEUE,
    )
    _reset()
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            if "ready" in log.read_text():
                break
            time.sleep(0.2)
        if process.poll() is not None:
            pytest.fail(f"the Celery worker died at start:\n{log.read_text()}")
        yield process, log
    finally:
        app.conf.update(saved)
        _reset()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_the_worker_runs_the_nightly_recompute_named_in_the_beat_schedule(kpi_worker):
    # given: the hand-made fixture, committed, and the task the beat entry names
    process, log = kpi_worker
    kpi_data.build()
    task = app.tasks[settings.CELERY_BEAT_SCHEDULE["kpi-recompute-all"]["task"]]

    # when
    result = enqueue(task)
    answer = result.get(timeout=60)

    # then: the worker process wrote the figures
    assert result.successful(), log.read_text()
    run = KpiRun.objects.get(pk=answer["run"])
    assert run.status == KpiRun.Status.DONE
    assert answer["snapshots"] == run.snapshot_count > 0
    compliance = KpiSnapshot.objects.get(
        is_current=True, key="compliance", region__code="RM", period_label="2025"
    )
    assert compliance.value == Decimal("0.813953")
    assert compliance.run_id == run.pk
    assert f"{task.name}[" in log.read_text()


def test_the_worker_refreshes_a_region_after_a_contract_change(kpi_worker):
    # given: figures computed, then RM's lines re-matched after a contract change
    kpi_data.build()
    first = enqueue(app.tasks["kpi.recompute_all"]).get(timeout=60)
    rm = kpi_data.Region.objects.get(code="RM")

    # when: the hook enqueues kpi.recompute_region through the real broker
    from spend import matching

    matching.contracts_changed(rm)

    # then: a region run follows, done by the worker
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = KpiRun.objects.filter(scope=KpiRun.Scope.REGION, region=rm).first()
        if run and run.status != KpiRun.Status.RUNNING:
            break
        time.sleep(0.2)
    assert run is not None and run.status == KpiRun.Status.DONE
    assert run.pk > first["run"]
