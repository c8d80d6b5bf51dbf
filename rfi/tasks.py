"""Celery tasks of the project package, and the one safe way to enqueue any task."""

from __future__ import annotations

import contextvars
import logging
import threading
import weakref
from collections.abc import Callable
from contextlib import contextmanager

from celery import current_app, shared_task
from django.db import DEFAULT_DB_ALIAS, transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The task could not be handed to the broker."""


@shared_task(name="rfi.ping")
def ping() -> str:
    """Answer 'pong': the health check's round trip through a worker."""
    return "pong"


def enqueue(task, *args, **kwargs):
    """Send a task without ever hanging on a dead broker.

    A bare ``delay()`` retries the connection forever when Redis is down; here
    publishing is not retried and the broker transport has short socket
    timeouts (settings.CELERY_BROKER_TRANSPORT_OPTIONS), so the caller hears
    within seconds and gets a clear error.
    """
    try:
        return task.apply_async(args=args, kwargs=kwargs, retry=False)
    except (OperationalError, OSError, ConnectionError) as exc:
        raise _unavailable(task, exc) from exc
    except RuntimeError as exc:
        # The Redis result backend subscribes to the result before the task is sent;
        # when Redis is down it gives up (settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS)
        # with a bare RuntimeError whose cause is the connection error.
        connection_errors = getattr(task.app.backend, "connection_errors", ())
        if not isinstance(exc.__cause__, connection_errors):
            raise
        raise _unavailable(task, exc.__cause__) from exc.__cause__


def _unavailable(task, exc: BaseException) -> BrokerUnavailable:
    logger.error("could not enqueue %s: %s", task.name, exc)
    return BrokerUnavailable(
        f"The task queue (Celery broker) is unreachable; {task.name} was not queued: {exc}"
    )


_batches = threading.local()


def on_commit_once(callback: Callable[..., object], *args, using: str | None = None) -> None:
    """Run ``callback(*args)`` once when the current transaction commits.

    Calls with the same callback and arguments within one transaction are gathered into
    one on-commit hook per callback, which runs each distinct call once (an import that
    registers hundreds of contracts sends one rematch per region). Outside a transaction
    the call runs at once. A rolled-back transaction discards its hook, and with it its
    calls: the hook's finaliser forgets the batch, so the next transaction starts afresh.
    """
    _gather(callback, callback, args, using or DEFAULT_DB_ALIAS)


def _gather(key: object, callback: Callable[..., object], args: tuple, alias: str) -> None:
    open_batches: dict = _batches.__dict__.setdefault("open", {})
    batch = open_batches.get((alias, key))
    if batch is not None:
        batch[(callback, args)] = None
        return
    batch = {(callback, args): None}
    open_batches[(alias, key)] = batch

    def run_batch() -> None:
        _forget(open_batches, (alias, key), batch)
        for queued_callback, queued_args in batch:
            queued_callback(*queued_args)

    weakref.finalize(run_batch, _forget, open_batches, (alias, key), batch)
    transaction.on_commit(run_batch, using=alias)


def _forget(open_batches: dict, key: tuple, batch: dict) -> None:
    if open_batches.get(key) is batch:
        del open_batches[key]


def enqueue_on_commit(name: str, *args, using: str | None = None) -> None:
    """Send the task registered as ``name`` once the transaction commits, once per transaction.

    Tasks are looked up by name, so an app lower in the import chain can ask a higher
    one for work (suppliers asks spend to rematch, spend asks kpi to refresh). A task
    that is not registered is skipped; a dead broker or a task failing in eager mode
    never fails the transaction that asked: both are logged, and the night catches up
    (beat: ``spend.rematch_all_regions`` at 01:30 re-matches every region's lines, then
    ``kpi.recompute_all`` at 02:00 recomputes every figure; the sweeper re-sends imports).
    """
    _gather(name, _send_by_name, (name, args), using or DEFAULT_DB_ALIAS)


_held: contextvars.ContextVar[dict | None] = contextvars.ContextVar("held_tasks", default=None)


@contextmanager
def tasks_held(*names: str):
    """Hold back the tasks named while the block runs: ``enqueue_on_commit`` records their
    calls instead of sending them, and the block's owner does the work once after it
    (seed_demo recomputes the KPIs once instead of once per region and load).

    Yields the held calls: ``{name: [args, …]}``.
    """
    held: dict = {name: [] for name in names}
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def _send_by_name(name: str, args: tuple) -> None:
    held = _held.get()
    if held is not None and name in held:
        held[name].append(args)
        return
    task = current_app.tasks.get(name)
    if task is None:
        logger.warning("task %s is not registered; not queued", name)
        return
    try:
        enqueue(task, *args)
    except BrokerUnavailable:
        logger.warning("%s%r not queued: the broker is unreachable", name, args)
    except Exception:
        # Eager mode (no broker) runs the task right here.
        logger.exception("%s%r failed", name, args)
