"""Celery tasks of spend: thin wrappers that load by id and call a service.

spend.services imports this module (to queue an import), so the tasks that call it import
it in their body; everything else is imported here.
"""

from __future__ import annotations

from celery import shared_task

from rfi.models import Region
from spend import matching


@shared_task(name="spend.remap_region")
def remap_region(region_id: int) -> dict:
    """Re-apply the mapping and exclusion rules and the contracts to a region's current lines."""
    region = Region.objects.get(pk=region_id)
    result = matching.region_remap(region=region)
    return {"lines": result.lines, "unmapped": result.unmapped, "excluded": result.excluded}


@shared_task(name="spend.rematch_region")
def rematch_region(region_id: int) -> dict:
    """Re-match a region's current lines after a contract of the region changed."""
    region = Region.objects.get(pk=region_id)
    result = matching.contracts_changed(region)
    return {
        "supplier_matched": result.supplier_matched,
        "category_matched": result.category_matched,
    }


@shared_task(name="spend.rematch_all_regions")
def rematch_all_regions() -> int:
    """Re-match every region's current lines (beat, nightly at 01:30, before the KPI run).

    The safety net for a contract change whose own ``spend.rematch_region`` was lost.
    """
    return matching.lines_match().supplier_matched


# acks_late + reject_on_worker_lost: a worker that dies mid-import leaves the message to be
# delivered again (and the sweeper sends the batch again anyway); ledger_batch_process
# makes a second delivery of a finished batch a no-op and restarts a half-done one cleanly.
@shared_task(name="spend.import_batch", acks_late=True, reject_on_worker_lost=True)
def import_batch(batch_id: int) -> dict:
    """Import one uploaded ledger extract (all lines or none)."""
    from spend.services import ledger_batch_process

    batch = ledger_batch_process(batch_id=batch_id)
    return {"batch": batch.pk, "status": batch.status, "rows": batch.rows_loaded}


@shared_task(name="spend.sweep_batches")
def sweep_batches() -> int:
    """Send again the ledger imports left queued or running too long (beat, every 5 min)."""
    from spend.services import ledger_batches_sweep

    return ledger_batches_sweep()
