"""A dead task queue at upload time: the file is saved as queued and the officer told so, fast.

These tests commit for real (transactional database), so the batch's commit callback runs
inside the request exactly as in production.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from rfi.celery import app
from spend.importer.pipeline import ledger_batches_sweep
from spend.models import ImportBatch, LedgerLine
from tests.conftest import client_for as signed_in
from tests.spend.ledger_files import JANUARY, csv_bytes, media  # noqa: F401 – fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("media")]

# Nothing listens on port 1: connections are refused at once (as in tests/rfi/test_health.py).
DEAD_BROKER = "redis://127.0.0.1:1/0"
BOUND_SECONDS = 5


@pytest.fixture
def dead_broker(monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", DEAD_BROKER)
    monkeypatch.setitem(app.conf, "result_backend", DEAD_BROKER)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    monkeypatch.setattr(app, "_backend_cache", None)
    if hasattr(app._local, "backend"):
        monkeypatch.delattr(app._local, "backend")
    yield
    if hasattr(app._local, "backend"):
        del app._local.backend


def _client(user):
    client = signed_in(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_with_the_queue_down_the_upload_is_saved_queued_and_the_officer_told_fast(
    officer_rm, dead_broker
):
    client = _client(officer_rm)
    upload = SimpleUploadedFile("hovedbog.csv", csv_bytes(JANUARY))

    started = time.monotonic()
    response = client.post(reverse("spend:upload"), {"region": "RM", "file": upload}, follow=True)
    elapsed = time.monotonic() - started

    assert elapsed < BOUND_SECONDS, f"the officer waited {elapsed:.1f} s"
    assert response.status_code == 200
    (batch,) = ImportBatch.objects.all()
    assert batch.status == ImportBatch.Status.QUEUED
    assert not LedgerLine.objects.exists()
    html = response.content.decode()
    assert "will be imported as soon as the queue is back" in html
    assert "task queue cannot be reached just now" in html  # the flash message
    # the batch page keeps saying so when the officer comes back
    again = client.get(reverse("spend:batch", kwargs={"pk": batch.pk})).content.decode()
    assert "will be imported as soon as the queue is back" in again


def test_the_api_answers_202_with_the_queue_down_and_says_so(officer_rm, dead_broker):
    client = signed_in(officer_rm)
    upload = SimpleUploadedFile("hovedbog.csv", csv_bytes(JANUARY))

    started = time.monotonic()
    response = client.post(reverse("importbatch-list"), {"region": "RM", "file": upload})
    elapsed = time.monotonic() - started

    assert elapsed < BOUND_SECONDS
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["queue_unreachable"] is True


def test_the_sweeper_leaves_batches_queued_while_the_queue_is_down(officer_rm, dead_broker):
    client = _client(officer_rm)
    client.post(
        reverse("spend:upload"),
        {"region": "RM", "file": SimpleUploadedFile("hovedbog.csv", csv_bytes(JANUARY))},
    )
    ImportBatch.objects.update(uploaded_at=timezone.now() - dt.timedelta(minutes=6))

    assert ledger_batches_sweep() == 0
    (batch,) = ImportBatch.objects.all()
    assert batch.status == ImportBatch.Status.QUEUED
    assert batch.attempts == 0
