"""The request id travels with a task through Redis into the worker's log lines."""

from __future__ import annotations

import time

import pytest

from rfi import observability
from rfi.tasks import enqueue, ping

pytestmark = pytest.mark.integration


def test_the_worker_logs_a_task_with_the_id_of_the_request_that_sent_it(
    real_broker, celery_worker_process
):
    # given
    _, log = celery_worker_process
    request_id = observability.new_request_id()
    token = observability.request_id_var.set(request_id)
    try:
        # when
        result = enqueue(ping)
    finally:
        observability.request_id_var.reset(token)

    # then
    assert result.get(timeout=20) == "pong"
    deadline = time.monotonic() + 10
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text().splitlines() if request_id in line]
        if any("succeeded" in line for line in lines):
            break
        time.sleep(0.2)
    assert any("rfi.ping" in line and result.id in line for line in lines), lines
