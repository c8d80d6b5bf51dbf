"""Faults recover in minutes (issue 15 §2), with a real worker, Redis and PostgreSQL.

The test process plays beat: it runs the two sweeps (spend.sweep_batches and
kpi.refresh_owed) every couple of seconds, with the timeouts cut from minutes to seconds
through settings, and the worker gets the matching short heartbeat through its environment.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from kpi import services as kpi_services
from kpi.models import KpiFreshness, KpiSnapshot
from rfi.celery import app
from spend.importer.pipeline import ledger_batch_create, ledger_batch_enqueue, ledger_batches_sweep
from spend.models import ImportBatch, LedgerLine
from spend.synthetic import write_extract
from tests.integration.conftest import BROKER_URL, ROOT, _missing, _reachable, _reset_connections
from tests.integration.test_ledger_import_worker import _database_url
from tests.spend.ledger_files import FEBRUARY, JANUARY, csv_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUEUE = f"rfi-faults-{os.getpid()}"
# Large enough that a stop or kill lands mid-import: about five chunks of the CSV reader,
# so after the first chunk's progress several chunk boundaries remain (150,000 rows, three
# chunks, could finish before the signal arrived once binary COPY made the import faster).
LARGE_ROWS = 300_000
RECOVERY_LIMIT = 5 * 60  # the bound; the short timeouts below make it ~1 minute
WORKER_ENV = {
    "LEDGER_HEARTBEAT_SECONDS": "1",
    # A stopping worker puts its import back at the next chunk (production: after 90 s).
    "LEDGER_STOP_GRACE_SECONDS": "0",
    "PYTHONUNBUFFERED": "1",
}
DEAD_BROKER = "redis://127.0.0.1:1/0"


class Worker:
    """`celery worker` on this module's queue, in its own process group."""

    def __init__(self, log_dir: Path, media_root: Path):
        self.log_dir, self.media_root = log_dir, media_root
        self.process: subprocess.Popen | None = None
        self.log: Path | None = None
        self.started = 0

    def start(self, *, pool: str = "prefork", concurrency: int = 2) -> Worker:
        self.started += 1
        self.log = self.log_dir / f"worker-{self.started}.log"
        env = {
            **os.environ,
            **WORKER_ENV,
            "DATABASE_URL": _database_url(),
            "MEDIA_ROOT": str(self.media_root),
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_RESULT_BACKEND": BROKER_URL,
        }
        command = [sys.executable, "-m", "celery", "-A", "rfi", "worker", "-P", pool]
        command += ["-c", str(concurrency), "-O", "fair", "--prefetch-multiplier=1"]
        command += ["-Q", QUEUE, "--loglevel=INFO", "-n", f"{QUEUE}-{self.started}@%h"]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while "ready" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{self.log.read_text()}")
            time.sleep(0.2)
        return self

    def kill_all(self) -> None:
        """SIGKILL to the main process and every pool process: nothing acks, nothing cleans."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text()[-4000:] if self.log else ""


@pytest.fixture
def worker(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): the worker reaches the test database")
    if not _reachable(BROKER_URL):
        _missing(f"Redis is not reachable at {BROKER_URL}")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LEDGER_HEARTBEAT_STALE_SECONDS = 6
    settings.LEDGER_UNSENT_GRACE_SECONDS = 0
    settings.LEDGER_QUEUED_STALE_SECONDS = 30
    settings.KPI_REFRESH_OWED_GRACE_SECONDS = 3
    settings.KPI_REFRESH_RESEND_SECONDS = 20
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
    _reset_connections()
    worker = Worker(tmp_path, settings.MEDIA_ROOT)
    try:
        yield worker
    finally:
        worker.stop()
        app.conf.update(saved)
        _reset_connections()


def _upload(region, data: bytes, name: str) -> ImportBatch:
    return ledger_batch_create(
        region=region, uploaded_file=SimpleUploadedFile(name, data), file_name=name
    )


def _large(region, tmp_path: Path, seed: int) -> ImportBatch:
    path = write_extract(
        tmp_path / f"stor-{region.code}-{seed}.csv", rows=LARGE_ROWS, region=region.code,
        seed=seed, start=dt.date(2024, 1, 1), end=dt.date(2024, 6, 30),
    )  # fmt: skip
    return ledger_batch_create(
        region=region, path=path, file_name=path.name, source=ImportBatch.Source.API
    )


def _wait(condition, timeout: float, worker: Worker, what: str, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    pytest.fail(f"{what} not within {timeout} s\n{worker.tail()}")


def _play_beat_until_recovered(batches, worker: Worker, limit: float) -> float:
    """Run both sweeps every 2 s until no batch is queued or running and no refresh is owed."""
    started = time.monotonic()
    pending = (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)
    while time.monotonic() - started < limit:
        ledger_batches_sweep()
        kpi_services.kpi_refresh_owed()
        open_batches = ImportBatch.objects.filter(pk__in=batches, status__in=pending).exists()
        owed = any(
            kpi_services.freshness_for(region).stale
            for region in {b.region for b in ImportBatch.objects.filter(pk__in=batches)}
        )
        if not open_batches and not owed:
            return time.monotonic() - started
        time.sleep(2)
    states = list(ImportBatch.objects.filter(pk__in=batches).values_list("pk", "status", "message"))
    pytest.fail(f"not recovered within {limit} s: {states}\n{worker.tail()}")


def _current_figures(regions) -> dict:
    """The regions' current figures (the other regions have no lines and were never
    refreshed, so only a full recompute writes theirs)."""
    return {
        (s.key, s.region_id, s.period_kind, s.period_label): (s.value, s.available, s.batch_ids)
        for s in KpiSnapshot.objects.filter(is_current=True, region__in=regions)
    }


def test_kill_9_of_the_whole_worker_with_uploads_queued_recovers_within_minutes(
    worker, regions, tmp_path
):
    # given: several uploads for two regions, a large one first, queued for a prefork worker
    rm, rsd = regions["RM"], regions["RSD"]
    large = _large(rm, tmp_path, seed=21)
    bad_rows = [row[:] for row in FEBRUARY]
    bad_rows[0][7] = "ti kroner"
    batches = [
        large,
        _large(rsd, tmp_path, seed=22),
        _upload(rm, csv_bytes(JANUARY), "januar.csv"),
        _upload(rsd, csv_bytes(FEBRUARY), "februar.csv"),
        _upload(rsd, csv_bytes(bad_rows), "forkert.csv"),
        _upload(rm, csv_bytes(FEBRUARY), "februar.csv"),
    ]
    first = worker.start()
    for batch in batches:
        assert ledger_batch_enqueue(batch) is True

    # when: the whole worker (main and pool processes) is killed mid-import
    _wait(
        lambda: ImportBatch.objects.filter(
            pk=large.pk, status=ImportBatch.Status.RUNNING, rows_parsed__gt=0
        ).exists(),
        120,
        first,
        "the large import running",
        step=0.02,
    )
    first.kill_all()
    killed_at = time.monotonic()
    large.refresh_from_db()
    assert large.status == ImportBatch.Status.RUNNING

    # then: with a fresh worker and the sweeps, every batch is done or refused, in minutes
    worker.start()
    _play_beat_until_recovered([b.pk for b in batches], worker, RECOVERY_LIMIT)
    assert time.monotonic() - killed_at < RECOVERY_LIMIT

    states = dict(
        ImportBatch.objects.filter(pk__in=[b.pk for b in batches]).values_list("pk", "status")
    )
    assert states[batches[4].pk] == ImportBatch.Status.FAILED  # refused: a bad amount
    assert {states[b.pk] for b in batches if b is not batches[4]} == {ImportBatch.Status.DONE}
    large.refresh_from_db()
    assert large.attempts == 2
    assert LedgerLine.objects.filter(batch=large).count() == LARGE_ROWS
    assert large.rows_loaded == LARGE_ROWS

    # and the KPIs equal a fresh recompute of the same data
    for region in (rm, rsd):
        assert not kpi_services.freshness_for(region).stale
    shown = _current_figures([rm, rsd])
    assert shown
    kpi_services.kpi_recompute()
    assert _current_figures([rm, rsd]) == shown


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_sigterm_mid_import_puts_the_batch_back_and_the_next_worker_imports_it(
    worker, regions, tmp_path, pool
):
    # given: a large import running (prefork: in a pool process, as compose runs it)
    large = _large(regions["RM"], tmp_path, seed=31)
    first = worker.start(pool=pool, concurrency=1)
    assert ledger_batch_enqueue(large) is True
    _wait(
        lambda: ImportBatch.objects.filter(
            pk=large.pk, status=ImportBatch.Status.RUNNING, rows_parsed__gt=0
        ).exists(),
        120,
        first,
        "the import running",
        step=0.02,
    )

    # when: the worker is stopped as compose stops it (SIGTERM to the main process)
    stopped = time.monotonic()
    first.process.send_signal(signal.SIGTERM)
    first.process.wait(timeout=120)  # compose's stop_grace_period

    # then: it left within the grace, the batch back in the queue, nothing of it loaded
    assert time.monotonic() - stopped < 60
    large.refresh_from_db()
    assert large.status == ImportBatch.Status.QUEUED, first.tail()
    assert large.sent_at is None and large.message  # the page says why (in Danish here)
    assert not LedgerLine.objects.filter(batch=large).exists()

    # when: a worker comes back; the next sweep sends the batch again
    worker.start(pool="solo", concurrency=1)
    _play_beat_until_recovered([large.pk], worker, RECOVERY_LIMIT)
    large.refresh_from_db()
    assert large.status == ImportBatch.Status.DONE
    assert LedgerLine.objects.filter(batch=large).count() == LARGE_ROWS


def test_an_upload_queued_while_the_broker_was_down_is_sent_at_the_first_sweep_after(
    worker, regions, monkeypatch
):
    worker.start(pool="solo", concurrency=1)
    batch = _upload(regions["RM"], csv_bytes(JANUARY), "januar.csv")

    # given: the broker was down when the upload came
    app.conf.update(broker_url=DEAD_BROKER, result_backend=DEAD_BROKER)
    _reset_connections()
    try:
        assert ledger_batch_enqueue(batch) is False
    finally:
        app.conf.update(broker_url=BROKER_URL, result_backend=BROKER_URL)
        _reset_connections()
    batch.refresh_from_db()
    assert batch.sent_at is None

    # when: the broker is back and beat's next sweep runs (every minute)
    assert ledger_batches_sweep() == 1

    # then
    _wait(
        lambda: ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.DONE).exists(),
        60,
        worker,
        "the import",
    )


def test_a_lost_kpi_refresh_is_sent_again_by_the_sweep(worker, regions):
    # given: an import done by the worker, whose refresh was lost. (The worker sends it to
    # Celery's default queue, which no worker of this test consumes: lost, as intended.)
    worker.start(pool="solo", concurrency=1)
    rm = regions["RM"]
    batch = _upload(rm, csv_bytes(JANUARY), "januar.csv")
    assert ledger_batch_enqueue(batch) is True
    _wait(
        lambda: ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.DONE).exists(),
        60,
        worker,
        "the import",
    )
    KpiFreshness.objects.filter(region=rm).update(batch_id=None)
    batch.refresh_from_db()
    ImportBatch.objects.filter(pk=batch.pk).update(
        finished_at=batch.finished_at - dt.timedelta(minutes=1)
    )
    assert kpi_services.freshness_for(rm).stale

    # when / then: the sweep sends the refresh and the worker runs it
    _play_beat_until_recovered([batch.pk], worker, 180)
    assert KpiFreshness.objects.get(region=rm).batch_id == batch.pk
    assert "kpi.recompute_region[" in worker.log.read_text()
