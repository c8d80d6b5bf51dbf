"""The sweeper and the import task: no upload forgotten, a second delivery changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from rfi.celery import app
from spend import tasks
from spend.importer import pipeline
from spend.models import ImportBatch, LedgerLine
from tests.spend.ledger_files import (
    FEBRUARY,
    JANUARY,
    JANUARY_TOTAL,
    csv_bytes,
    current_total,
    english,  # noqa: F401 – fixture
    media,  # noqa: F401 – fixture
    upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "english")]


def _age(
    batch: ImportBatch,
    *,
    uploaded=None,
    started=None,
    status=None,
    attempts=None,
    sent=None,
    heartbeat=None,
):
    """Make a batch look as if it was left behind ``uploaded``/``started``/``sent`` minutes
    ago, its last heartbeat ``heartbeat`` minutes ago."""
    now = timezone.now()
    fields = {}
    if sent is not None:
        fields["sent_at"] = now - dt.timedelta(minutes=sent)
    if heartbeat is not None:
        fields["heartbeat_at"] = now - dt.timedelta(minutes=heartbeat)
    if uploaded is not None:
        fields["uploaded_at"] = now - dt.timedelta(minutes=uploaded)
    if started is not None:
        fields["started_at"] = now - dt.timedelta(minutes=started)
    if status is not None:
        fields["status"] = status
    if attempts is not None:
        fields["attempts"] = attempts
    ImportBatch.objects.filter(pk=batch.pk).update(**fields)
    batch.refresh_from_db()
    return batch


def _half_loaded(batch: ImportBatch, rows: int = 3) -> None:
    """Lines a worker wrote for the batch before it died (SQLite loads in chunks)."""
    LedgerLine.objects.bulk_create(
        LedgerLine(
            batch=batch,
            region=batch.region,
            row_number=2 + i,
            posting_date=dt.date(2025, 1, 2),
            supplier_id="12345678",
            amount=1,
        )
        for i in range(rows)
    )


@pytest.fixture
def sent(monkeypatch):
    """The batch ids handed to the queue (without running them)."""
    ids: list[int] = []
    monkeypatch.setattr(
        pipeline, "ledger_batch_enqueue", lambda batch: ids.append(batch.pk) or True
    )
    return ids


def test_a_batch_left_queued_over_5_minutes_is_sent_again_and_imported(regions):
    batch = _age(upload(regions["RM"], csv_bytes(JANUARY)), uploaded=6, sent=6)

    assert pipeline.ledger_batches_sweep() == 1

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE  # eager: the re-sent task ran
    assert current_total(regions["RM"]) == JANUARY_TOTAL


def test_a_fresh_queued_batch_and_finished_ones_are_left_alone(regions, sent):
    fresh = _age(upload(regions["RM"], csv_bytes(JANUARY)), uploaded=4, sent=4)
    done = _age(upload(regions["RM"], csv_bytes(FEBRUARY)), uploaded=600)
    pipeline.ledger_batch_process(batch_id=done.pk)

    assert pipeline.ledger_batches_sweep() == 0
    assert sent == []
    fresh.refresh_from_db()
    assert fresh.status == ImportBatch.Status.QUEUED


def test_a_running_batch_silent_over_2_minutes_restarts_without_its_half_loaded_lines(regions):
    # given: a worker died during the first attempt, leaving some lines behind; its
    # heartbeat stopped 3 minutes ago
    batch = upload(regions["RM"], csv_bytes(JANUARY))
    _age(batch, started=10, heartbeat=3, status=ImportBatch.Status.RUNNING, attempts=1)
    _half_loaded(batch)

    # when
    assert pipeline.ledger_batches_sweep() == 1

    # then: exactly the file's lines, once
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE
    assert batch.attempts == 2
    assert LedgerLine.objects.filter(batch=batch).count() == 4
    assert current_total(regions["RM"]) == JANUARY_TOTAL


def test_a_running_batch_with_a_live_heartbeat_is_left_to_its_worker(regions, sent):
    # A long import (59 minutes) whose worker still beats
    batch = upload(regions["RM"], csv_bytes(JANUARY))
    _age(batch, uploaded=90, started=59, heartbeat=1, status=ImportBatch.Status.RUNNING)

    assert pipeline.ledger_batches_sweep() == 0
    assert sent == []


def test_a_dead_run_is_queued_again_and_the_page_says_so(regions, sent):
    batch = upload(regions["RM"], csv_bytes(JANUARY))
    _age(batch, started=5, heartbeat=3, status=ImportBatch.Status.RUNNING, attempts=1)

    assert pipeline.ledger_batches_sweep() == 1

    batch.refresh_from_db()
    assert sent == [batch.pk]
    assert batch.status == ImportBatch.Status.QUEUED
    assert "stopped before it finished" in batch.message
    # the next sweep waits for the re-sent message instead of sending it again
    assert pipeline.ledger_batches_sweep() == 0
    assert sent == [batch.pk]


def test_a_dead_run_does_not_hold_its_regions_queued_uploads(regions, sent):
    dead = upload(regions["RM"], csv_bytes(JANUARY))
    _age(dead, started=20, heartbeat=3, status=ImportBatch.Status.RUNNING, attempts=1)
    waiting = _age(upload(regions["RM"], csv_bytes(FEBRUARY)), uploaded=8, sent=8)

    assert pipeline.ledger_batches_sweep() == 2
    assert sent == [dead.pk, waiting.pk]


def test_a_batch_never_sent_goes_at_the_next_sweep_after_30_seconds(regions, sent):
    # The broker was down at upload: sent_at stays empty. The sweep runs every minute.
    batch = upload(regions["RM"], csv_bytes(JANUARY))
    ImportBatch.objects.filter(pk=batch.pk).update(
        uploaded_at=timezone.now() - dt.timedelta(seconds=40), sent_at=None
    )

    assert pipeline.ledger_batches_sweep() == 1
    assert sent == [batch.pk]


def test_the_heartbeat_of_a_running_import_is_written_at_its_start(regions, monkeypatch):
    seen = {}
    batch = upload(regions["RM"], csv_bytes(JANUARY))

    def progress(b):
        # Only the first call: later ones come while a COPY holds the import's connection.
        if "heartbeat" not in seen:
            seen["heartbeat"] = ImportBatch.objects.get(pk=b.pk).heartbeat_at

    pipeline.ledger_batch_process(batch_id=batch.pk, progress=progress)

    assert seen["heartbeat"] is not None


def test_a_queued_batch_waiting_behind_a_live_import_of_its_region_is_left_alone(regions, sent):
    running = upload(regions["RM"], csv_bytes(JANUARY))
    _age(running, started=10, heartbeat=0, status=ImportBatch.Status.RUNNING, attempts=1)
    waiting = _age(upload(regions["RM"], csv_bytes(FEBRUARY)), uploaded=8, sent=8)
    other_region = _age(upload(regions["RSD"], csv_bytes(FEBRUARY)), uploaded=8, sent=8)

    assert pipeline.ledger_batches_sweep() == 1
    assert sent == [other_region.pk]
    waiting.refresh_from_db()
    assert waiting.status == ImportBatch.Status.QUEUED


def test_after_5_attempts_the_batch_is_failed_with_a_message_not_tried_again(regions, sent):
    batch = upload(regions["RM"], csv_bytes(JANUARY))
    _age(batch, started=61, heartbeat=3, status=ImportBatch.Status.RUNNING, attempts=5)
    _half_loaded(batch)

    assert pipeline.ledger_batches_sweep() == 0

    batch.refresh_from_db()
    assert sent == []
    assert batch.status == ImportBatch.Status.FAILED
    assert "started 5 times and never finished" in batch.message
    assert batch.errors[0]["reason"] == batch.message
    assert batch.finished_at is not None
    assert not LedgerLine.objects.filter(batch=batch).exists()
    # and the next sweep leaves it be
    assert pipeline.ledger_batches_sweep() == 0
    assert sent == []


def test_4_attempts_still_get_a_fifth(regions, sent):
    batch = upload(regions["RM"], csv_bytes(JANUARY))
    _age(batch, started=61, heartbeat=3, status=ImportBatch.Status.RUNNING, attempts=4)

    assert pipeline.ledger_batches_sweep() == 1
    assert sent == [batch.pk]
    batch.refresh_from_db()
    assert "attempt 4 of 5" in batch.message


def test_the_sweep_task_calls_the_sweeper(monkeypatch):
    monkeypatch.setattr(pipeline, "ledger_batches_sweep", lambda: 7)

    assert tasks.sweep_batches.delay().get() == 7


# The import task ---------------------------------------------------------------------------------


def test_the_import_task_is_idempotent_a_second_delivery_changes_nothing(regions):
    batch = upload(regions["RM"], csv_bytes(JANUARY))

    first = tasks.import_batch.delay(batch.pk).get()
    lines = list(LedgerLine.objects.order_by("pk").values_list("pk", "amount"))
    second = tasks.import_batch.delay(batch.pk).get()

    assert first == {"batch": batch.pk, "status": "done", "rows": 4}
    assert second == first
    assert list(LedgerLine.objects.order_by("pk").values_list("pk", "amount")) == lines
    batch.refresh_from_db()
    assert batch.attempts == 1


def test_the_import_task_survives_a_lost_worker_and_acks_late():
    task = app.tasks["spend.import_batch"]

    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_the_beat_schedule_sweeps_every_minute_with_an_expiry():
    entry = settings.CELERY_BEAT_SCHEDULE["spend-sweep-batches"]

    assert entry["task"] in app.tasks
    assert entry["schedule"].minute == set(range(60))
    assert 0 < entry["options"]["expires"] <= 60


def test_long_tasks_are_not_prefetched_and_outlive_the_visibility_timeout():
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout >= pipeline.LOCK_WAIT_SECONDS + 30 * 60
    for name in ("spend.import_batch", "kpi.recompute_region", "kpi.recompute_all"):
        assert app.tasks[name].acks_late is True, name
        assert app.tasks[name].reject_on_worker_lost is True, name


def test_a_stopping_worker_puts_its_import_back_in_the_queue(regions, settings, monkeypatch):
    # given: the worker was told to stop longer ago than the stop grace
    settings.LEDGER_STOP_GRACE_SECONDS = 0
    monkeypatch.setattr(pipeline, "_stop_since", [])
    pipeline.request_stop()
    try:
        batch = upload(regions["RM"], csv_bytes(JANUARY))

        # when
        pipeline.ledger_batch_process(batch_id=batch.pk)
    finally:
        pipeline.STOP.clear()

    # then: nothing imported, queued and unsent, so the next sweep sends it
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.QUEUED
    assert batch.sent_at is None
    assert "worker was stopped" in batch.message
    assert not LedgerLine.objects.filter(batch=batch).exists()
