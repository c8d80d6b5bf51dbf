"""The nightly beat entry, the thin tasks, and the refresh spend asks for after imports."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from celery import current_app
from celery.schedules import crontab
from django.conf import settings

from kpi import tasks
from kpi.models import KpiRun, KpiSnapshot
from rfi.tasks import BrokerUnavailable
from spend import matching
from spend.importer import pipeline
from tests.kpi import kpi_data
from tests.spend import spend_data as sd

pytestmark = pytest.mark.django_db


def test_the_nightly_recompute_is_scheduled_at_two_with_expires():
    entry = settings.CELERY_BEAT_SCHEDULE["kpi-recompute-all"]

    assert entry["task"] in current_app.tasks
    assert entry["schedule"] == crontab(hour=2, minute=0)
    assert settings.CELERY_TIMEZONE == "Europe/Copenhagen"
    # A missed night is dropped, not stacked behind the next one.
    assert 0 < entry["options"]["expires"] <= 24 * 3600


def test_recompute_all_calls_the_service():
    with mock.patch("kpi.services.kpi_recompute") as recompute:
        recompute.return_value = KpiRun(pk=7, snapshot_count=3, duration_ms=5)
        assert tasks.recompute_all() == {"run": 7, "snapshots": 3, "ms": 5}
    recompute.assert_called_once_with()


def test_recompute_region_calls_the_service_for_that_region(regions):
    with mock.patch("kpi.services.kpi_recompute") as recompute:
        recompute.return_value = KpiRun(pk=8, snapshot_count=1, duration_ms=1)
        tasks.recompute_region(regions["RM"].pk)
    recompute.assert_called_once_with(region=regions["RM"])


def test_recompute_region_of_a_deleted_region_does_nothing(db):
    with mock.patch("kpi.services.kpi_recompute") as recompute:
        assert tasks.recompute_region(999_999) == {"run": None, "snapshots": 0}
    recompute.assert_not_called()


def test_loaded_lines_enqueue_one_refresh_of_their_region_on_commit(
    regions, django_capture_on_commit_callbacks
):
    batch = sd.batch(regions["RM"])
    sd.lines(batch, {"supplier_id": "11111111"})

    with mock.patch("rfi.tasks.enqueue") as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.after_lines_loaded(batch)
            pipeline.kpi_refresh_after_import(batch)
            matching.contracts_changed(regions["RM"])  # same region, same transaction
            matching.contracts_changed(regions["RSD"])

    sent = [(call.args[0].name, call.args[1]) for call in enqueue.call_args_list]
    assert sorted(sent) == sorted(
        [("kpi.recompute_region", regions["RM"].pk), ("kpi.recompute_region", regions["RSD"].pk)]
    )


def test_a_dead_broker_never_fails_the_import(regions, django_capture_on_commit_callbacks):
    batch = sd.batch(regions["RM"])
    sd.lines(batch, {"supplier_id": "11111111"})

    with mock.patch("rfi.tasks.enqueue", side_effect=BrokerUnavailable("redis down")):
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.after_lines_loaded(batch)
            pipeline.kpi_refresh_after_import(batch)

    assert batch.lines.count() == 1


def test_a_failing_recompute_never_fails_the_rematch(regions, django_capture_on_commit_callbacks):
    with mock.patch("kpi.services.kpi_recompute", side_effect=RuntimeError("boom")):
        with django_capture_on_commit_callbacks(execute=True):
            result = matching.contracts_changed(regions["RM"])

    assert result.supplier_matched == 0


def test_in_the_embedded_mode_an_import_refreshes_the_figures_at_once(
    django_capture_on_commit_callbacks,
):
    # Eager Celery (no broker): the refresh runs right after the commit.
    world = kpi_data.build()
    rm_batch = world.regions["RM"].import_batches.filter(is_current=True).first()

    with django_capture_on_commit_callbacks(execute=True):
        pipeline.kpi_refresh_after_import(rm_batch)

    run = KpiRun.objects.get()
    assert (run.scope, run.region, run.status) == (
        KpiRun.Scope.REGION,
        world.regions["RM"],
        KpiRun.Status.DONE,
    )
    assert KpiSnapshot.objects.get(
        is_current=True, key="compliance", region=world.regions["RM"], period_label="2025"
    ).value == Decimal("0.813953")
