"""A real Celery worker against a real Redis, started for the integration tests.

The test process switches its Celery app from eager mode to the same broker,
so tasks really travel through Redis to a separate worker process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import kombu.pools
import pytest
import redis

from rfi.celery import app

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = os.environ.get("INTEGRATION_REDIS_URL", "redis://127.0.0.1:6379/15")
QUEUE = f"rfi-integration-{os.getpid()}"

pytestmark = pytest.mark.integration


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def _missing(reason: str) -> None:
    # CI must never pass by skipping the one suite that proves a real worker works.
    if os.environ.get("CI") == "true":
        pytest.fail(f"integration tests need Redis: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _leave_redis_as_found():
    """The integration tests delete the Redis keys they made (queues, results, bindings,
    unacked messages), whichever test or worker made them."""
    if not _reachable(BROKER_URL):
        yield
        return
    client = redis.Redis.from_url(BROKER_URL)
    before = set(client.keys("*"))
    yield
    made = set(client.keys("*")) - before
    if made:
        client.delete(*made)
    client.close()


@pytest.fixture(scope="session")
def celery_worker_process(tmp_path_factory):
    if not _reachable(BROKER_URL):
        _missing(f"Redis is not reachable at {BROKER_URL}")
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {**os.environ, "CELERY_BROKER_URL": BROKER_URL, "CELERY_RESULT_BACKEND": BROKER_URL}
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "rfi",
                "worker",
                "-P",
                "solo",
                "-c",
                "1",
                "-Q",
                QUEUE,
                "--loglevel=INFO",
                "-n",
                f"{QUEUE}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _reset_connections() -> None:
    """Drop the app's cached connections so a changed broker_url takes effect."""
    app.__dict__.pop("backend", None)  # the result backend was a cached property
    # Celery 5.3+ keeps the result backend in _backend_cache (thread-safe backends) or per
    # thread in _local: an eager task run earlier in the session leaves a DisabledBackend.
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()


@pytest.fixture
def real_broker(celery_worker_process):
    """Point this process's Celery app at the real broker and the worker's queue."""
    process, log = celery_worker_process
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
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        if "ready" in log.read_text():
            break
        time.sleep(0.2)
    if process.poll() is not None:
        pytest.fail(f"the Celery worker died at start:\n{log.read_text()}")
    yield process
    app.conf.update(saved)
    _reset_connections()
