"""/healthz and the safe enqueue: a dead broker is reported fast, never waited on."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from rfi import health
from rfi.celery import app
from rfi.tasks import BrokerUnavailable, enqueue, ping

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: connections are refused at once.
DEAD_BROKER = "redis://127.0.0.1:1/0"
BOUND_SECONDS = 5


def _drop_cached_connections(monkeypatch) -> None:
    """Make a changed broker_url/result_backend take effect; undone after the test."""
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    monkeypatch.setattr(app, "_backend_cache", None)
    if hasattr(app._local, "backend"):
        monkeypatch.delattr(app._local, "backend")


@pytest.fixture
def dead_broker(monkeypatch):
    """Celery configured for a broker and result backend that refuse connections."""
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", DEAD_BROKER)
    monkeypatch.setitem(app.conf, "result_backend", DEAD_BROKER)
    _drop_cached_connections(monkeypatch)
    yield
    # The result backend built for the dead address lives on a thread-local that
    # monkeypatch did not record; the original (if any) is put back after this.
    if hasattr(app._local, "backend"):
        del app._local.backend


READY = {"ready": "1"}


@pytest.fixture
def operator(client, secretariat):
    """The secretariat: /healthz shows it each check's detail."""
    client.force_login(secretariat)
    return client


def test_healthz_in_embedded_mode(operator):
    response = operator.get(reverse("healthz"), READY)

    body = response.json()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "cache": True,
        "broker": True,
        "worker": True,
    }
    assert body["checks"]["cache"]["detail"] == "LocMemCache"
    assert "eager" in body["checks"]["broker"]["detail"]
    assert "no-cache" in response["Cache-Control"]


def test_healthz_needs_no_account_and_only_answers_get(client):
    assert client.get(reverse("healthz")).status_code == 200
    assert client.post(reverse("healthz")).status_code == 405


def test_in_embedded_mode_a_task_runs_in_process():
    result = enqueue(ping)

    assert result.get(timeout=1) == "pong"


def test_healthz_reports_an_unreachable_broker_quickly(operator, dead_broker):
    started = time.monotonic()
    response = operator.get(reverse("healthz"), READY)
    elapsed = time.monotonic() - started

    body = response.json()
    assert response.status_code == 503
    assert elapsed < BOUND_SECONDS
    assert body["status"] == "fail"
    assert body["checks"]["broker"]["ok"] is False
    detail = body["checks"]["broker"]["detail"]
    assert "unreachable" in detail
    assert "redis://127.0.0.1:1/0" in detail
    # the other checks still answer for themselves
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True


def test_enqueue_on_a_dead_broker_fails_fast_and_clearly(dead_broker):
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as caught:
        enqueue(ping)
    elapsed = time.monotonic() - started

    assert elapsed < BOUND_SECONDS
    message = str(caught.value)
    assert "unreachable" in message
    assert "rfi.ping" in message


def test_the_broker_address_in_a_report_hides_its_password(operator, monkeypatch, dead_broker):
    monkeypatch.setitem(app.conf, "broker_url", "redis://:s3cret-pw@127.0.0.1:1/0")
    _drop_cached_connections(monkeypatch)

    body = operator.get(reverse("healthz"), READY).json()

    assert "s3cret-pw" not in body["checks"]["broker"]["detail"]
    assert "redis://127.0.0.1:1/0" in body["checks"]["broker"]["detail"]


def test_after_a_dead_broker_test_the_app_is_eager_again():
    # Guards the fixture: a leaked broker setting would make every later task hang.
    assert app.conf.task_always_eager is True
    assert enqueue(ping).get(timeout=1) == "pong"


def test_liveness_never_asks_the_broker_the_worker_or_the_cache(client, dead_broker, monkeypatch):
    # given: a dead broker, and a cache that would fail if asked
    def refuse(*args, **kwargs):
        raise AssertionError("liveness asked the cache")

    monkeypatch.setattr("rfi.health.check_cache", refuse)
    started = time.monotonic()

    response = client.get(reverse("healthz"))

    assert time.monotonic() - started < 1
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"process", "cache"}


def test_readiness_ping_expires_so_unanswered_pings_do_not_pile_up(monkeypatch):
    from rfi import health

    sent = {}

    class Answered:
        def get(self, timeout):
            return "pong"

    def apply_async(**options):
        sent.update(options)
        return Answered()

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setattr(ping, "apply_async", apply_async)
    monkeypatch.setattr(app, "connection_for_write", lambda: _FakeConnection(), raising=False)

    checks = health.check_broker_and_worker()

    assert checks["worker"]["ok"] is True
    assert 0 < sent["expires"] <= health.BROKER_ROUND_TRIP_TIMEOUT


class _FakeConnection:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def ensure_connection(self, **kwargs):
        return self


def test_anonymous_callers_get_ok_or_down_only_and_a_recent_answer(
    client, dead_broker, monkeypatch, settings
):
    made = []
    real = health.health_report

    def counted():
        made.append(1)
        return real()

    monkeypatch.setattr(health, "health_report", counted)
    settings.HEALTHZ_CACHE_SECONDS = 5

    answers = [client.get(reverse("healthz"), READY) for _ in range(3)]

    body = answers[0].json()
    assert [a.status_code for a in answers] == [503, 503, 503]
    assert body["checks"]["broker"] == {"ok": False}  # no host, no exception text
    assert all("detail" not in check for check in body["checks"].values())
    assert len(made) == 1  # one round trip for the three requests


def test_prometheus_with_the_metrics_token_gets_the_details(client, settings):
    settings.METRICS_TOKEN = "a-long-random-operator-token"

    body = client.get(
        reverse("healthz"), READY, headers={"Authorization": "Bearer a-long-random-operator-token"}
    ).json()

    assert body["checks"]["cache"]["detail"] == "LocMemCache"
