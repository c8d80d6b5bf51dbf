"""/metrics: Prometheus metrics for the operator, with the gauges the alerts are set on."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest
import redis
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from kpi.models import KpiRun
from rfi.celery import app
from spend.models import ImportBatch

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token-for-tests"
REDIS_URL = os.environ.get("INTEGRATION_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN


def _scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.mark.parametrize(
    "authorization", ["", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer ", TOKEN]
)
def test_without_the_token_the_endpoint_does_not_exist(client, authorization):
    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 404


def test_an_empty_token_setting_accepts_no_bearer(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_the_secretariat_signed_in_may_read_it(persona_client):
    _, client = persona_client("secretariat")

    assert client.get("/metrics").status_code == 200


def test_request_metrics_are_counted(client):
    client.get("/")
    client.get("/")

    samples = _scrape(client)

    assert samples[("django_http_requests_total_by_method_total", (("method", "GET"),))] >= 2
    views = {
        labels
        for name, labels in samples
        if name == "django_http_responses_total_by_status_view_method_total"
    }
    assert any(("view", "home") in labels for labels in views)


def _batch(region, status, **fields) -> ImportBatch:
    return ImportBatch.objects.create(
        region=region,
        source=ImportBatch.Source.API,
        file_name="x.csv",
        sha256=uuid.uuid4().hex,
        status=status,
        **fields,
    )


def test_import_gauges_show_the_oldest_waiting_batch_and_failures(client, regions):
    # given: a batch queued two hours ago, one running for ten minutes, two refused today
    now = timezone.now()
    queued = _batch(regions["RM"], ImportBatch.Status.QUEUED)
    ImportBatch.objects.filter(pk=queued.pk).update(uploaded_at=now - dt.timedelta(hours=2))
    _batch(regions["RSD"], ImportBatch.Status.RUNNING, started_at=now - dt.timedelta(minutes=10))
    for _ in range(2):
        _batch(regions["RH"], ImportBatch.Status.FAILED, finished_at=now)
    _batch(regions["RH"], ImportBatch.Status.FAILED, finished_at=now - dt.timedelta(days=3))

    # when
    samples = _scrape(client)

    # then
    age = samples[("rfi_import_oldest_active_age_seconds", (("status", "queued"),))]
    assert 7200 <= age < 7300
    age = samples[("rfi_import_oldest_active_age_seconds", (("status", "running"),))]
    assert 600 <= age < 700
    assert samples[("rfi_import_batches", (("status", "failed"),))] == 3
    assert samples[("rfi_import_batches", (("status", "done"),))] == 0
    assert samples[("rfi_import_failed_last_24h", ())] == 2


def test_no_waiting_batch_reads_zero(client, db):
    samples = _scrape(client)

    assert samples[("rfi_import_oldest_active_age_seconds", (("status", "queued"),))] == 0


def test_kpi_gauges_show_the_last_nightly_run(client, regions):
    # given: last night's full run took 83.5 s; a region refresh since does not count
    finished = timezone.now() - dt.timedelta(hours=5)
    KpiRun.objects.create(
        status=KpiRun.Status.DONE, finished_at=finished, duration_ms=83_500, snapshot_count=9
    )
    KpiRun.objects.create(
        status=KpiRun.Status.DONE,
        scope=KpiRun.Scope.REGION,
        region=regions["RM"],
        finished_at=timezone.now(),
        duration_ms=900,
    )

    samples = _scrape(client)

    assert samples[("rfi_kpi_nightly_last_success_timestamp_seconds", ())] == pytest.approx(
        finished.timestamp()
    )
    assert samples[("rfi_kpi_nightly_last_duration_seconds", ())] == 83.5
    assert samples[("rfi_kpi_nightly_last_failed", ())] == 0


def test_a_failed_nightly_run_shows_and_the_last_success_stays(client, db):
    success = timezone.now() - dt.timedelta(days=1, hours=5)
    KpiRun.objects.create(status=KpiRun.Status.DONE, finished_at=success, duration_ms=80_000)
    KpiRun.objects.create(
        status=KpiRun.Status.FAILED, finished_at=timezone.now(), duration_ms=2_000, error="boom"
    )

    samples = _scrape(client)

    assert samples[("rfi_kpi_nightly_last_failed", ())] == 1
    assert samples[("rfi_kpi_nightly_last_success_timestamp_seconds", ())] == pytest.approx(
        success.timestamp()
    )


@pytest.fixture
def broker(monkeypatch):
    """The Celery app pointed at a real Redis and a queue of its own."""
    parts = urlsplit(REDIS_URL)
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=1).close()
    except OSError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    queue = f"rfi-metrics-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", REDIS_URL)
    monkeypatch.setitem(app.conf, "task_default_queue", queue)

    client = redis.Redis.from_url(REDIS_URL)
    yield client, queue
    client.delete(queue, f"{queue}\x06\x163")
    client.close()


def test_queue_length_counts_the_messages_waiting_in_redis(client, broker):
    # given: five messages waiting, one of them with a priority
    redis_client, queue = broker
    redis_client.lpush(queue, *["{}"] * 4)
    redis_client.lpush(f"{queue}\x06\x163", "{}")

    samples = _scrape(client)

    assert samples[("rfi_celery_broker_up", ())] == 1
    assert samples[("rfi_celery_queue_length", (("queue", queue),))] == 5


def test_a_dead_broker_reads_as_down_and_the_other_gauges_still_answer(client, monkeypatch, db):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")

    samples = _scrape(client)

    assert samples[("rfi_celery_broker_up", ())] == 0
    assert ("rfi_import_failed_last_24h", ()) in samples
