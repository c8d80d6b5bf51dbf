"""The Prometheus endpoint's content: request metrics plus gauges read at scrape time.

Request metrics come from django-prometheus's middleware (per process; with several
gunicorn workers set PROMETHEUS_MULTIPROC_DIR so a scrape adds every worker's up). The
operational gauges are computed when Prometheus scrapes, from the database and the broker,
so every process answers the same and nothing has to be kept in step across processes.

Apps higher in the import chain add their own collectors with ``register`` from their
AppConfig.ready() (rfi may not import spend or kpi).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterable

import prometheus_client
import redis
from django.conf import settings
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rfi.celery import app

logger = logging.getLogger(__name__)

# Kombu's Redis transport keeps a queue's messages of priority > 0 in lists of their own.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)

_collectors: list[Callable[[], Iterable[Metric]]] = []


def register(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add a function yielding metric families to every scrape (once per function)."""
    if collect not in _collectors:
        _collectors.append(collect)


class _Scrape(Collector):
    def collect(self) -> Iterable[Metric]:
        for collect in [celery_queue_metrics, *_collectors]:
            try:
                yield from collect()
            except Exception:
                # One broken source must not hide the others (nor the request metrics).
                logger.exception("metrics collector %s failed", collect.__qualname__)


def token_matches(authorization: str) -> bool:
    """Whether an Authorization header carries settings.METRICS_TOKEN as a bearer token."""
    token = settings.METRICS_TOKEN
    scheme, _, value = authorization.partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


def exposition() -> bytes:
    """The text Prometheus reads: this process's (or all workers') metrics, then the gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = prometheus_client.REGISTRY
    scrape_registry = CollectorRegistry(auto_describe=False)
    scrape_registry.register(_Scrape())
    return prometheus_client.generate_latest(process_registry) + prometheus_client.generate_latest(
        scrape_registry
    )


CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST


def queue_names() -> list[str]:
    """The Celery queues tasks are sent to: the default one and any named in the routes."""
    names = {app.conf.task_default_queue or "celery"}
    routes = app.conf.task_routes or {}
    if isinstance(routes, dict):
        for route in routes.values():
            if isinstance(route, dict) and route.get("queue"):
                names.add(str(route["queue"]))
    for queue in app.conf.task_queues or ():
        names.add(getattr(queue, "name", str(queue)))
    return sorted(names)


def celery_queue_metrics() -> Iterable[Metric]:
    """Messages waiting in each Celery queue (Redis LLEN), and whether the broker answered."""
    broker_url = app.conf.broker_url or ""
    if app.conf.task_always_eager or not broker_url.startswith(("redis://", "rediss://")):
        return

    up = GaugeMetricFamily("rfi_celery_broker_up", "1 if the Celery broker answered the scrape.")
    length = GaugeMetricFamily(
        "rfi_celery_queue_length",
        "Messages waiting in a Celery queue (not yet taken by a worker).",
        labels=["queue"],
    )
    try:
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            for name in queue_names():
                keys = [name, *(f"{name}{_PRIORITY_SEPARATOR}{step}" for step in _PRIORITY_STEPS)]
                pipe = client.pipeline(transaction=False)
                for key in keys:
                    pipe.llen(key)
                length.add_metric([name], sum(pipe.execute()))
        finally:
            client.close()
    except redis.RedisError as exc:
        logger.warning("metrics: the broker did not answer: %s", exc)
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    yield length
