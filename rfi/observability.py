"""Request ids and log formatting: one id per request, carried into the tasks it sends.

The id lives in a context variable. ``rfi.middleware.RequestIdMiddleware`` sets it for a
request; the Celery signals below copy it into the headers of every task a request (or a
task) publishes and restore it in the worker before the task runs, so the web's and the
worker's log lines of one upload share an id. ``RequestIdFilter`` puts it, and the running
task's name and id, on every log record; the formatters in settings.LOGGING print them.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import logging.config
import re
import time
import uuid

from celery import current_task, signals
from django.conf import settings

from rfi import network

REQUEST_ID_HEADER = "X-Request-ID"
# The task message header that carries the id from the publisher to the worker.
TASK_HEADER = "request_id"
# What an id from the proxy may look like: UUIDs, hex, Caddy's and nginx's ids. Anything
# else (or an id sent by a client directly) is replaced by a fresh one.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    return request_id_var.get()


def is_proxy_address(address: str) -> bool:
    """Whether a peer address is our own network's (the TLS proxy), not the internet's.

    The deployment publishes only the proxy's ports; whatever reaches gunicorn from a
    private or loopback address came through it (or from the operator's own machine).
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback


def client_address(meta: dict) -> str:
    """The client's address as the trusted proxies forwarded it (rfi/network.py)."""
    return network.client_address(meta)


def incoming_request_id(meta: dict) -> str:
    """The proxy's X-Request-ID when it is trusted and well-formed, else a fresh id."""
    candidate = meta.get("HTTP_X_REQUEST_ID", "")
    behind_proxy = network.num_proxies() > 0 and is_proxy_address(meta.get("REMOTE_ADDR", ""))
    if candidate and _VALID_ID.match(candidate) and behind_proxy:
        return candidate
    return new_request_id()


# Logging ------------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Add ``request_id``, ``task`` and ``task_id`` to every record (empty when there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        task_name, task_id = _running_task()
        if not hasattr(record, "task"):
            record.task = task_name
        if not hasattr(record, "task_id"):
            record.task_id = task_id
        return True


def _running_task() -> tuple[str, str]:
    task = current_task
    if not task or getattr(task.request, "id", None) is None:
        return "", ""
    return task.name or "", task.request.id or ""


class UTCConsoleFormatter(logging.Formatter):
    """The development console format, with times in UTC like the JSON lines."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


# Celery: carry the id from the publisher to the task ------------------------------------------


@signals.before_task_publish.connect(weak=False)
def _add_request_id_header(headers: dict | None = None, **kwargs) -> None:
    request_id = request_id_var.get()
    if headers is not None and request_id and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


_task_tokens: dict[str, contextvars.Token] = {}


@signals.task_prerun.connect(weak=False)
def _restore_request_id(task_id: str | None = None, task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    if request is not None and getattr(request, "is_eager", False):
        return  # run in-process by the request itself: its id is already set
    incoming = _header(request, TASK_HEADER)
    if task_id:
        # A task sent by beat or by hand has no request: its own id stands in.
        _task_tokens[task_id] = request_id_var.set(incoming or f"task-{task_id}")


@signals.task_postrun.connect(weak=False)
def _forget_request_id(task_id: str | None = None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (a thread pool): just clear it
            request_id_var.set("")


def _header(request, name: str) -> str:
    if request is None:
        return ""
    value = getattr(request, name, None)  # Celery copies custom headers onto the request
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return value if isinstance(value, str) else ""


@signals.setup_logging.connect(weak=False)
def _use_django_logging(**kwargs) -> None:
    """Let the worker and beat log as settings.LOGGING says, not in Celery's own format.

    A receiver of this signal stops Celery from configuring the root logger itself.
    """
    logging.config.dictConfig(settings.LOGGING)
