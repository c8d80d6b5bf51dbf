"""Ledger-import gauges for the Prometheus endpoint (rfi.metrics), read at scrape time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from spend.models import ImportBatch


def import_metrics() -> Iterable[Metric]:
    now = timezone.now()
    counts = dict(
        ImportBatch.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    batches = GaugeMetricFamily(
        "rfi_import_batches", "Ledger import batches by status.", labels=["status"]
    )
    for status in ImportBatch.Status.values:
        batches.add_metric([status], counts.get(status, 0))
    yield batches

    failed = GaugeMetricFamily(
        "rfi_import_failed_last_24h", "Ledger imports refused or failed in the last 24 hours."
    )
    failed.add_metric(
        [],
        ImportBatch.objects.filter(
            status=ImportBatch.Status.FAILED,
            finished_at__gte=now - dt.timedelta(hours=24),
        ).count(),
    )
    yield failed

    # Queued: waiting since the upload; running: since the import started (a re-sent batch
    # starts again). 0 when there is none, so "age > threshold" alerts need no absent().
    oldest = GaugeMetricFamily(
        "rfi_import_oldest_active_age_seconds",
        "Age of the oldest queued (since upload) or running (since start) ledger batch.",
        labels=["status"],
    )
    queued = ImportBatch.objects.filter(status=ImportBatch.Status.QUEUED).aggregate(
        at=Min("uploaded_at")
    )["at"]
    running = ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING).aggregate(
        at=Min(Coalesce("started_at", "uploaded_at"))
    )["at"]
    for status, since in (("queued", queued), ("running", running)):
        oldest.add_metric([status], (now - since).total_seconds() if since else 0.0)
    yield oldest
