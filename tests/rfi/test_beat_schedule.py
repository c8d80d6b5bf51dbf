"""The beat schedule (rfi/settings.py CELERY_BEAT_SCHEDULE): every entry runs a real task."""

from __future__ import annotations

from celery.schedules import crontab
from django.conf import settings

from rfi.celery import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()

    assert settings.CELERY_BEAT_SCHEDULE
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"{name}: {entry['task']} is not a registered task"
        assert entry["options"]["expires"] > 0, name


def test_every_region_is_rematched_nightly_before_the_kpi_run():
    schedule = settings.CELERY_BEAT_SCHEDULE
    rematch = schedule["spend-rematch-all-regions"]
    kpi = schedule["kpi-recompute-all"]

    assert rematch["task"] == "spend.rematch_all_regions"
    assert rematch["schedule"] == crontab(hour=1, minute=30)
    assert kpi["schedule"] == crontab(hour=2, minute=0)
    # A night's re-match still queued when the KPI run starts is not worth running late.
    assert 0 < rematch["options"]["expires"] <= 3600
