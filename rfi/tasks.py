"""Celery tasks of the project package, and the one safe way to enqueue any task."""

from __future__ import annotations

import logging

from celery import shared_task
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
