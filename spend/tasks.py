"""Celery tasks of spend: thin wrappers that load by id and call a service.

The pipeline sends these tasks by name (rfi.tasks.enqueue_on_commit), so this module imports
it and nothing imports back.
"""

from __future__ import annotations

import logging
import os
import signal

from celery import shared_task
from celery.signals import worker_process_init, worker_shutting_down

from rfi.models import Region
from spend import matching
from spend.importer import pipeline

logger = logging.getLogger(__name__)


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
    batch = pipeline.ledger_batch_process(batch_id=batch_id)
    return {"batch": batch.pk, "status": batch.status, "rows": batch.rows_loaded}


@shared_task(name="spend.sweep_batches")
def sweep_batches() -> int:
    """Send again the ledger imports a fault left behind (beat, every minute)."""
    return pipeline.ledger_batches_sweep()


# Stopping the worker (SIGTERM, compose's stop) ----------------------------------------------------
# Celery's warm shutdown lets the running import finish. One that would outlast compose's stop
# grace period puts its batch back in the queue after settings.LEDGER_STOP_GRACE_SECONDS
# instead (pipeline.request_stop). The solo and thread pools run the import in the process
# that hears the stop; the prefork pool's children are told with SIGUSR2.
STOP_SIGNAL = signal.SIGUSR2


@worker_shutting_down.connect
def _stop_imports(**kwargs) -> None:
    pipeline.request_stop()
    try:
        from billiard.process import active_children

        children = active_children()
    except Exception:  # noqa: BLE001 – no pool children to tell
        children = []
    for child in children:
        try:
            os.kill(child.pid, STOP_SIGNAL)
        except OSError:
            logger.debug("pool process %s already gone", child.pid)


@worker_process_init.connect
def _listen_for_stop(**kwargs) -> None:
    signal.signal(STOP_SIGNAL, lambda signum, frame: pipeline.request_stop())
