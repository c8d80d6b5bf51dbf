"""State of the database, the cache and the task broker, for /healthz."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.db import connection
from kombu.exceptions import OperationalError

from rfi.celery import app
from rfi.tasks import BrokerUnavailable, enqueue, ping

BROKER_ROUND_TRIP_TIMEOUT = 5.0


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return {"ok": False, "detail": f"database unreachable: {exc}"}
    return {"ok": True, "detail": connection.vendor}


def check_cache() -> dict:
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", 10)
        ok = cache.get(key) == "ok"
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "detail": f"cache unreachable: {exc}"}
    backend = type(caches[DEFAULT_CACHE_ALIAS]).__name__  # not the ConnectionProxy
    return {"ok": ok, "detail": backend if ok else f"{backend}: value not read back"}


def _safe_url(url: str) -> str:
    """The broker address without its password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def check_broker() -> dict:
    """A real round trip through a worker when a broker is configured."""
    if app.conf.task_always_eager:
        return {"ok": True, "detail": "no broker configured: tasks run in-process (eager)"}

    where = _safe_url(app.conf.broker_url or "")
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        result = enqueue(ping)
    except (BrokerUnavailable, OperationalError, OSError) as exc:
        return {"ok": False, "detail": f"broker at {where} unreachable: {exc.__cause__ or exc}"}
    try:
        answer = result.get(timeout=BROKER_ROUND_TRIP_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        name = type(exc).__name__
        return {"ok": False, "detail": f"broker at {where}: no worker answered ({name}: {exc})"}
    return {"ok": answer == "pong", "detail": f"worker answered via {where}"}


def health_report() -> tuple[bool, dict]:
    checks = {
        "database": check_database(),
        "cache": check_cache(),
        "broker": check_broker(),
    }
    healthy = all(c["ok"] for c in checks.values())
    return healthy, {"status": "ok" if healthy else "fail", "checks": checks}
