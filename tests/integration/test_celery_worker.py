"""Tasks travel through a real Redis to a real `celery worker` process and back."""

from __future__ import annotations

import pytest

from rfi.tasks import enqueue, ping

pytestmark = pytest.mark.integration


def test_a_task_runs_in_the_worker_process_and_returns_its_result(real_broker):
    # when
    result = enqueue(ping)
    # then: the answer came back through Redis from the separate worker
    assert result.get(timeout=20) == "pong"
    assert result.successful()


def test_healthz_reports_the_broker_ok_through_a_real_worker(real_broker, client, db, secretariat):
    client.force_login(secretariat)  # the operator sees each check's detail
    response = client.get("/healthz?ready=1")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["broker"]["ok"] is True
    assert "worker answered" in body["checks"]["worker"]["detail"]


def test_healthz_reports_503_when_no_worker_consumes_the_queue(
    real_broker, client, db, secretariat
):
    client.force_login(secretariat)  # the operator sees each check's detail
    # given: the broker is up, but nobody listens on this queue
    from rfi.celery import app

    app.conf.task_default_queue = "rfi-integration-nobody-listens"
    try:
        response = client.get("/healthz?ready=1")
        live = client.get("/healthz")
    finally:
        app.conf.task_default_queue = real_broker.args[real_broker.args.index("-Q") + 1]
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is False
    assert "no worker answered" in body["checks"]["worker"]["detail"]
    # liveness never waits on the worker
    assert live.status_code == 200
