"""/healthz: liveness for the container, readiness (``?ready=1``) for the operator.

Liveness answers from the web process alone: it never waits on the worker, the broker or
the cache (a down worker or cache must not get gunicorn restarted), and reports what the
process last saw of the cache. Readiness makes a round trip to each service: the
database, the cache, the broker, and a worker, whose ping task expires so that pings
nobody answers do not pile up in the queue. A cache outage is reported but leaves the
site ready (pages render uncached, rfi/cache.py); the others make it answer 503.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.db import connection
from kombu.exceptions import OperationalError

from rfi import cache as resilient
from rfi.celery import app
from rfi.tasks import ping

BROKER_ROUND_TRIP_TIMEOUT = 5.0
# Checks whose failure leaves the site serving (degraded) rather than not ready.
NOT_CRITICAL = {"cache"}


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return {"ok": False, "detail": f"database unreachable: {exc}"}
    return {"ok": True, "detail": connection.vendor}


def _backend():
    return caches[DEFAULT_CACHE_ALIAS]


def cache_state() -> dict:
    """The cache as this process last found it, without a round trip (liveness)."""
    backend = _backend()
    name = type(backend).__name__
    if isinstance(backend, resilient.ResilientRedisCache):
        state = resilient.state()
        return {"ok": state["ok"], "detail": f"{name}: {state['detail']}"}
    return {"ok": True, "detail": name}


def check_cache() -> dict:
    backend = _backend()
    name = type(backend).__name__  # not the ConnectionProxy
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        if isinstance(backend, resilient.ResilientRedisCache):
            backend.ping()  # the resilient backend would swallow the error
        cache.set(key, "ok", 10)
        ok = cache.get(key) == "ok"
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "detail": f"cache unreachable (pages served uncached): {exc}"}
    return {"ok": ok, "detail": name if ok else f"{name}: value not read back"}


def _safe_url(url: str) -> str:
    """The broker address without its password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def check_broker_and_worker() -> dict[str, dict]:
    """The broker's connection, then a ping task through a worker (it expires unanswered)."""
    if app.conf.task_always_eager:
        eager = {"ok": True, "detail": "no broker configured: tasks run in-process (eager)"}
        return {"broker": eager, "worker": eager}
    where = _safe_url(app.conf.broker_url or "")
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        result = ping.apply_async(expires=BROKER_ROUND_TRIP_TIMEOUT, retry=False)
    except (OperationalError, OSError, RuntimeError) as exc:
        down = {"ok": False, "detail": f"broker at {where} unreachable: {exc.__cause__ or exc}"}
        return {"broker": down, "worker": {"ok": False, "detail": "not asked: no broker"}}
    broker = {"ok": True, "detail": f"reachable at {where}"}
    try:
        answer = result.get(timeout=BROKER_ROUND_TRIP_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        name = type(exc).__name__
        worker = {"ok": False, "detail": f"broker at {where}: no worker answered ({name}: {exc})"}
        return {"broker": broker, "worker": worker}
    return {
        "broker": broker,
        "worker": {"ok": answer == "pong", "detail": f"worker answered via {where}"},
    }


def _status(checks: dict) -> tuple[bool, str]:
    ready = all(c["ok"] for name, c in checks.items() if name not in NOT_CRITICAL)
    if not ready:
        return False, "fail"
    return True, "ok" if all(c["ok"] for c in checks.values()) else "degraded"


def liveness_report() -> tuple[bool, dict]:
    checks = {"process": {"ok": True, "detail": "answering"}, "cache": cache_state()}
    alive, status = _status(checks)
    return alive, {"status": status, "checks": checks}


def health_report() -> tuple[bool, dict]:
    """Readiness: a round trip to every service the site depends on."""
    checks = {"database": check_database(), "cache": check_cache(), **check_broker_and_worker()}
    ready, status = _status(checks)
    return ready, {"status": status, "checks": checks}


# For anonymous callers: cheap, and only ok/down ----------------------------------------------
# The error texts name hosts and exceptions: they are for the operator (the secretariat, or
# Prometheus with the METRICS_TOKEN). Anyone else gets ok/down per component, and the
# readiness round trip is made at most once per HEALTHZ_CACHE_SECONDS per process, so a
# flood of anonymous /healthz?ready=1 cannot become a flood of pings to the worker.
_anonymous_answers: dict[str, tuple[float, tuple[bool, dict]]] = {}


def forget_anonymous_answers() -> None:
    """Drop the remembered anonymous answers (tests; a new process starts without them)."""
    _anonymous_answers.clear()


def without_details(report: dict) -> dict:
    return {
        "status": report["status"],
        "checks": {name: {"ok": check["ok"]} for name, check in report["checks"].items()},
    }


def anonymous_report(*, ready: bool) -> tuple[bool, dict]:
    seconds = getattr(settings, "HEALTHZ_CACHE_SECONDS", 5)
    key = "ready" if ready else "live"
    now = time.monotonic()
    cached = _anonymous_answers.get(key)
    if cached and seconds > 0 and now - cached[0] < seconds:
        return cached[1]
    healthy, report = (health_report if ready else liveness_report)()
    answer = (healthy, without_details(report))
    _anonymous_answers[key] = (now, answer)
    return answer
