"""Ledger imports through a real Redis and a real `celery worker` process on PostgreSQL.

The worker is started here (not the package's shared one) because it must reach this test
run's database (test_<name>) and media directory: the upload page commits the batch and its
file, the worker reads them. SQLite's test database lives in the test process's memory, so
these tests need PostgreSQL (CI runs the suite on both).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from rfi.celery import app
from spend.importer.pipeline import ledger_batch_create, ledger_batch_enqueue, ledger_batches_sweep
from spend.models import ImportBatch, LedgerLine
from spend.synthetic import write_extract
from tests.conftest import client_for
from tests.integration.conftest import BROKER_URL, ROOT, _missing, _reachable, _reset_connections
from tests.spend.ledger_files import JANUARY, JANUARY_TOTAL, csv_bytes, current_total

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUEUE = f"rfi-ledger-{os.getpid()}"
LARGE_ROWS = 300_000


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db.get("USER") or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class Worker:
    """One `celery worker -P solo` on this module's queue, reaching the test database."""

    def __init__(self, log_dir: Path, media_root: Path):
        self.log_dir, self.media_root = log_dir, media_root
        self.process: subprocess.Popen | None = None
        self.log: Path | None = None
        self.started = 0

    def start(self) -> Worker:
        self.started += 1
        self.log = self.log_dir / f"worker-{self.started}.log"
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "MEDIA_ROOT": str(self.media_root),
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_RESULT_BACKEND": BROKER_URL,
        }
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "rfi", "worker", "-P", "solo", "-c", "1"]
                + ["-Q", QUEUE, "--loglevel=INFO", "-n", f"{QUEUE}-{self.started}@%h"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while "ready" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{self.log.read_text()}")
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no ack, no rollback by the worker itself."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def worker(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL (DATABASE_URL): the worker process cannot reach SQLite's "
            "in-memory test database"
        )
    if not _reachable(BROKER_URL):
        _missing(f"Redis is not reachable at {BROKER_URL}")
    settings.MEDIA_ROOT = tmp_path / "media"
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
    _forget_backend()
    worker = Worker(tmp_path, settings.MEDIA_ROOT)
    try:
        yield worker
    finally:
        worker.stop()
        app.conf.update(saved)
        _forget_backend()


def _forget_backend() -> None:
    _reset_connections()


def _wait_for(batch: ImportBatch, condition, timeout: float, worker: Worker, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if condition(batch):
            return batch
        time.sleep(step)
    log = worker.log.read_text() if worker.log else ""
    pytest.fail(
        f"batch {batch.pk} stuck at {batch.status} "
        f"({batch.rows_parsed}/{batch.rows_total}): {batch.message}\n{log[-3000:]}"
    )


def _finished(batch: ImportBatch) -> bool:
    return batch.status not in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)


def test_a_file_uploaded_through_the_page_is_imported_by_the_worker(worker, officer_rm, regions):
    worker.start()
    client = client_for(officer_rm)
    upload = SimpleUploadedFile("hovedbog.csv", csv_bytes(JANUARY))

    # when: the officer uploads (the request returns at once: the import is the worker's)
    response = client.post(reverse("spend:upload"), {"region": "RM", "file": upload})

    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    _wait_for(batch, _finished, 60, worker)
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert LedgerLine.objects.filter(batch=batch).count() == 4
    assert current_total(regions["RM"]) == JANUARY_TOTAL
    assert "spend.import_batch[" in worker.log.read_text()
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page


def test_a_worker_killed_mid_import_leaves_the_batch_running_and_a_retry_completes_it_exactly(
    worker, regions, tmp_path
):
    # given: a large-ish generated extract, queued for a worker
    path = write_extract(
        tmp_path / "stor-hovedbog.csv", rows=LARGE_ROWS, region="RM", seed=11,
        start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30),
    )  # fmt: skip
    batch = ledger_batch_create(
        region=regions["RM"], path=path, file_name=path.name, source=ImportBatch.Source.API
    )
    first = worker.start()
    assert ledger_batch_enqueue(batch) is True

    # when: the worker is killed while the rows are being read and loaded
    _wait_for(
        batch,
        lambda b: b.status == ImportBatch.Status.RUNNING and 0 < b.rows_parsed < LARGE_ROWS,
        120,
        first,
        step=0.02,
    )
    first.kill()

    # then: the batch is left running and not one of its lines was committed
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.RUNNING
    assert batch.attempts == 1
    assert not LedgerLine.objects.filter(batch=batch).exists()
    assert current_total(regions["RM"]) == 0

    # when: its heartbeat has been silent 3 minutes, the sweeper sends it again, to a
    # fresh worker
    ImportBatch.objects.filter(pk=batch.pk).update(
        started_at=timezone.now() - dt.timedelta(minutes=61),
        heartbeat_at=timezone.now() - dt.timedelta(minutes=3),
    )
    worker.start()
    assert ledger_batches_sweep() == 1

    # then: every line of the file, once
    _wait_for(batch, _finished, 300, worker, step=0.2)
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert batch.attempts == 2
    assert batch.rows_loaded == LARGE_ROWS
    assert LedgerLine.objects.filter(batch=batch).count() == LARGE_ROWS
    assert LedgerLine.objects.filter(region=regions["RM"]).count() == LARGE_ROWS
    rows = LedgerLine.objects.filter(batch=batch).values_list("row_number", flat=True)
    assert rows.distinct().count() == LARGE_ROWS
    assert min(rows) == 2 and max(rows) == LARGE_ROWS + 1


def test_a_second_delivery_of_a_finished_batch_is_a_no_op_in_the_worker(worker, regions):
    worker.start()
    batch = ledger_batch_create(
        region=regions["RM"],
        uploaded_file=SimpleUploadedFile("hovedbog.csv", csv_bytes(JANUARY)),
        file_name="hovedbog.csv",
    )
    from rfi.tasks import enqueue
    from spend import tasks

    first = enqueue(tasks.import_batch, batch.pk).get(timeout=60)
    lines = list(LedgerLine.objects.order_by("pk").values_list("pk", flat=True))
    second = enqueue(tasks.import_batch, batch.pk).get(timeout=60)

    assert first == second == {"batch": batch.pk, "status": "done", "rows": 4}
    assert list(LedgerLine.objects.order_by("pk").values_list("pk", flat=True)) == lines
    batch.refresh_from_db()
    assert batch.attempts == 1
    assert settings.CELERY_BEAT_SCHEDULE["spend-sweep-batches"]["task"] in app.tasks
