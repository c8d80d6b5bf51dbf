"""rfi.tasks.on_commit_once / enqueue_on_commit: once per transaction, nothing after a rollback."""

from __future__ import annotations

import pytest
from celery import shared_task
from django.db import transaction

from rfi.tasks import enqueue_on_commit, on_commit_once

pytestmark = pytest.mark.django_db(transaction=True)

SENT: list[tuple] = []


@shared_task(name="tests.rfi.enqueue_probe")
def enqueue_probe(*args) -> None:
    SENT.append(args)


@pytest.fixture(autouse=True)
def _clear():
    SENT.clear()
    yield
    SENT.clear()


def test_the_same_task_is_sent_once_per_transaction_after_the_commit():
    with transaction.atomic():
        for region_id in (3, 3, 1, 3):
            enqueue_on_commit(enqueue_probe.name, region_id)
        assert SENT == []

    assert sorted(SENT) == [(1,), (3,)]


def test_a_rolled_back_transaction_sends_nothing_and_the_next_one_starts_afresh():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(enqueue_probe.name, 7)
        raise RuntimeError("rolled back")
    assert SENT == []

    with transaction.atomic():
        enqueue_on_commit(enqueue_probe.name, 8)

    assert SENT == [(8,)]


def test_outside_a_transaction_the_task_is_sent_at_once():
    enqueue_on_commit(enqueue_probe.name, 5)
    enqueue_on_commit(enqueue_probe.name, 5)

    assert SENT == [(5,), (5,)]


def test_an_unknown_task_or_a_failing_one_never_fails_the_commit(caplog):
    calls = []

    def boom():
        calls.append(1)
        raise ValueError("the task failed")

    with transaction.atomic():
        enqueue_on_commit("no.such.task", 1)
        on_commit_once(calls.append, 2)

    assert calls == [2]
    assert "no.such.task is not registered" in caplog.text
