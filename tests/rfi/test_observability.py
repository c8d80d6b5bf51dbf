"""Logs: one JSON object a line in production, UTC times, and a request id on every line."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import logging
import re
from logging.config import DictConfigurator

import pytest
from celery import shared_task, signals
from django.conf import settings

from rfi import observability

pytestmark = pytest.mark.django_db


def _handler(formatter_name: str) -> tuple[logging.Handler, io.StringIO]:
    """The console handler of settings.LOGGING with the given formatter, writing to a buffer."""
    config = copy.deepcopy(settings.LOGGING)
    configurator = DictConfigurator(config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(config["formatters"][formatter_name]))
    handler.addFilter(configurator.configure_filter(config["filters"]["request_id"]))
    return handler, stream


@pytest.fixture
def json_lines():
    """What the production (DEBUG=0) handler writes, as parsed JSON objects."""
    handler, stream = _handler("json")
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def _access(lines: list[dict]) -> dict:
    (line,) = [line for line in lines if line["logger"] == "rfi.access"]
    return line


def test_a_response_carries_a_new_request_id_and_the_access_line_has_it(client, json_lines):
    # when
    response = client.get("/")

    # then
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    line = _access(json_lines())
    assert line["request_id"] == request_id
    assert (line["method"], line["path"], line["status"]) == ("GET", "/", 200)
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO"
    # UTC, whatever TIME_ZONE says (Europe/Copenhagen)
    logged = dt.datetime.fromisoformat(line["time"])
    assert logged.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - logged) < dt.timedelta(minutes=1)


def test_the_proxys_request_id_and_forwarded_client_are_kept(client, json_lines, settings):
    # given: the TLS proxy (a private address) forwards a request of 198.51.100.7
    settings.NUM_PROXIES = 1
    response = client.get(
        "/",
        HTTP_X_REQUEST_ID="caddy-5f0c1e2a-77aa",
        HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.7",
        REMOTE_ADDR="172.18.0.5",
    )

    assert response["X-Request-ID"] == "caddy-5f0c1e2a-77aa"
    line = _access(json_lines())
    assert line["request_id"] == "caddy-5f0c1e2a-77aa"
    # the last entry is the one the proxy added; the first is whatever the client claimed
    assert line["client"] == "198.51.100.7"


def test_a_client_reaching_the_app_directly_cannot_choose_its_id_or_address(client, json_lines):
    response = client.get(
        "/",
        HTTP_X_REQUEST_ID="chosen-by-the-client",
        HTTP_X_FORWARDED_FOR="10.0.0.1",
        REMOTE_ADDR="93.184.215.14",
    )

    assert response["X-Request-ID"] != "chosen-by-the-client"
    line = _access(json_lines())
    assert line["client"] == "93.184.215.14"
    assert line["request_id"] == response["X-Request-ID"]


def test_a_malformed_request_id_is_replaced(client):
    response = client.get("/", HTTP_X_REQUEST_ID='x"}\n{"level": "forged"}')

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_health_checks_are_not_logged_at_info(client, json_lines):
    client.get("/healthz")

    assert not [line for line in json_lines() if line["logger"] == "rfi.access"]


def test_the_development_console_line_is_readable_and_in_utc():
    # given
    handler, stream = _handler("console")
    logger = logging.getLogger("tests.console")
    logger.addHandler(handler)
    token = observability.request_id_var.set("abc123def456")
    try:
        # when
        logger.warning("batch %s refused", 7)
    finally:
        observability.request_id_var.reset(token)
        logger.removeHandler(handler)

    # then
    line = stream.getvalue().strip()
    match = re.fullmatch(r"(\S+) WARNING \[abc123def456\] tests.console: batch 7 refused", line)
    assert match, line
    logged = dt.datetime.strptime(match[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    assert abs(dt.datetime.now(dt.UTC) - logged) < dt.timedelta(minutes=1)


@shared_task(name="tests.log_something")
def log_something() -> str:
    logging.getLogger("tests.task").info("working")
    return observability.current_request_id()


def test_a_task_run_in_process_logs_with_the_requests_id(json_lines):
    # given: no broker (development): the request runs its task itself
    token = observability.request_id_var.set("req-0123456789")
    try:
        # when
        result = log_something.delay()
    finally:
        observability.request_id_var.reset(token)

    # then
    assert result.get() == "req-0123456789"
    (line,) = [line for line in json_lines() if line["logger"] == "tests.task"]
    assert line["request_id"] == "req-0123456789"
    assert line["task"] == "tests.log_something"
    assert line["task_id"] == result.id


def test_a_published_task_carries_the_request_id_in_its_headers():
    # given
    headers: dict = {}
    token = observability.request_id_var.set("req-abcdef0123")
    try:
        # when: what Celery does right before it hands a message to the broker
        signals.before_task_publish.send(sender="spend.import_batch", headers=headers, body=())
    finally:
        observability.request_id_var.reset(token)

    # then
    assert headers[observability.TASK_HEADER] == "req-abcdef0123"


def test_the_access_line_names_the_signed_in_user(persona_client, json_lines):
    user, client = persona_client("officer_rm")

    client.get("/mig/")

    assert _access(json_lines())["user_id"] == user.pk
