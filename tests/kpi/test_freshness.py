"""Figures "as of" an import: a lost refresh is noticed, said on the dashboard and sent again."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from kpi import services, tasks
from kpi.models import KpiFreshness, KpiRun
from rfi.tasks import BrokerUnavailable
from spend.models import ImportBatch
from tests.conftest import client_for, kept_for_module
from tests.kpi import kpi_data
from tests.spend import spend_data as sd

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The hand-made fixture, recomputed once for the module; each test's own imports and
    refreshes are rolled back after it."""
    with kept_for_module(django_db_blocker):
        with django_db_blocker.unblock():
            built = kpi_data.build()
            services.kpi_recompute()
        yield built


def _new_import(region, *, minutes_ago: int = 5):
    """A finished import whose own refresh was lost (no recompute after it)."""
    batch = sd.batch(region, current=False, year=2024)
    batch.status = batch.Status.DONE
    batch.finished_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    batch.save()
    return batch


def test_a_recompute_records_the_latest_import_its_figures_include(world):
    rm = world.regions["RM"]
    latest = rm.import_batches.order_by("-pk").first()

    assert KpiFreshness.objects.get(region=rm).batch_id == latest.pk
    assert services.freshness_for(rm).stale is False


def test_an_import_without_its_refresh_leaves_the_figures_stale_until_the_sweep(world):
    # given: RM imported again, and the refresh after it was lost
    rm = world.regions["RM"]
    batch = _new_import(rm)
    assert services.freshness_for(rm).stale is True

    # when: the sweep runs (eager: the refresh runs at once)
    sent = tasks.refresh_owed()

    # then: RM's refresh was sent and ran; the figures include the import
    assert sent == [rm.pk]
    assert KpiRun.objects.filter(scope=KpiRun.Scope.REGION, region=rm).exists()
    assert KpiFreshness.objects.get(region=rm).batch_id == batch.pk
    assert services.freshness_for(rm).stale is False
    assert tasks.refresh_owed() == []


def test_an_older_upload_finishing_last_is_noticed_too(world):
    """A retried import (its worker was killed) finishes after uploads sent later: the
    figures must follow it, though a newer batch id was refreshed already."""
    rm = world.regions["RM"]
    rm.import_batches.update(finished_at=timezone.now() - dt.timedelta(hours=1))
    retried = sd.batch(rm, current=False, year=2023, status=ImportBatch.Status.RUNNING)
    newer = _new_import(rm, minutes_ago=10)
    services.kpi_recompute(region=rm)
    assert KpiFreshness.objects.get(region=rm).batch_id == newer.pk
    assert services.freshness_for(rm).stale is False

    # the retry finishes after the newer upload, and its own refresh was lost
    retried.status = ImportBatch.Status.DONE
    retried.finished_at = timezone.now() - dt.timedelta(minutes=5)
    retried.save(update_fields=["status", "finished_at"])
    assert retried.pk < newer.pk

    assert services.freshness_for(rm).stale is True
    assert tasks.refresh_owed() == [rm.pk]
    assert KpiFreshness.objects.get(region=rm).batch_id == retried.pk
    assert services.freshness_for(rm).stale is False


def test_a_just_finished_import_gets_its_own_refresh_first(world):
    _new_import(world.regions["RM"], minutes_ago=0)

    with mock.patch("kpi.services.enqueue") as enqueue:
        assert services.kpi_refresh_owed() == []
    enqueue.assert_not_called()


def test_a_refresh_sent_again_is_not_sent_once_more_while_it_waits(world):
    rm = world.regions["RM"]
    _new_import(rm)

    with mock.patch("kpi.services.enqueue") as enqueue:
        assert services.kpi_refresh_owed() == [rm.pk]
        assert services.kpi_refresh_owed() == []
        later = timezone.now() + dt.timedelta(seconds=settings.KPI_REFRESH_RESEND_SECONDS + 1)
        assert services.kpi_refresh_owed(now=later) == [rm.pk]
    assert enqueue.call_count == 2


def test_with_the_broker_down_the_refresh_stays_owed(world):
    rm = world.regions["RM"]
    _new_import(rm)

    with mock.patch("kpi.services.enqueue", side_effect=BrokerUnavailable("down")):
        assert services.kpi_refresh_owed() == []

    assert KpiFreshness.objects.get(region=rm).refresh_sent_at is None
    assert services.freshness_for(rm).stale is True


def test_the_dashboard_says_when_its_figures_are_older_than_the_latest_import(world, chief):
    client = client_for(chief)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("kpi:index"), {"year": 2025}).content.decode()
    assert "kpi-stale" not in page

    batch = _new_import(world.regions["RM"])
    page = client.get(reverse("kpi:index"), {"year": 2025}).content.decode()

    assert "kpi-stale" in page
    assert f"latest import (batch {batch.pk}" in page


def test_the_owed_refresh_is_swept_every_minute():
    from celery import current_app

    entry = settings.CELERY_BEAT_SCHEDULE["kpi-refresh-owed"]

    assert entry["task"] in current_app.tasks
    assert entry["schedule"].minute == set(range(60))
    assert 0 < entry["options"]["expires"] <= 60
