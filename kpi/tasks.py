"""Celery tasks of the KPIs: thin wrappers that load by id and call kpi.services."""

from __future__ import annotations

from celery import shared_task

from kpi import services
from rfi.models import Region


@shared_task(name="kpi.recompute_all", acks_late=True, reject_on_worker_lost=True)
def recompute_all() -> dict:
    """Recompute every KPI for every region and period (nightly, CELERY_BEAT_SCHEDULE)."""
    run = services.kpi_recompute()
    return {"run": run.pk, "snapshots": run.snapshot_count, "ms": run.duration_ms}


@shared_task(name="kpi.recompute_region", acks_late=True, reject_on_worker_lost=True)
def recompute_region(region_id: int) -> dict:
    """Recompute a region's KPIs and the collaboration's, after an import or contract change."""
    region = Region.objects.filter(pk=region_id).first()
    if region is None:  # deleted since it was queued: nothing to do
        return {"run": None, "snapshots": 0}
    run = services.kpi_recompute(region=region)
    return {"run": run.pk, "snapshots": run.snapshot_count, "ms": run.duration_ms}


@shared_task(name="kpi.refresh_owed")
def refresh_owed() -> list[int]:
    """Send again the refreshes owed to regions whose figures predate their latest import
    (beat, every minute)."""
    from kpi import services

    return services.kpi_refresh_owed()
