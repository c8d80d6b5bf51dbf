"""Gauges of the nightly KPI recompute for the Prometheus endpoint (rfi.metrics)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from kpi.models import KpiRun


def kpi_run_metrics() -> Iterable[Metric]:
    """The last full recompute (scope "all": the nightly run, or one started by hand)."""
    runs = KpiRun.objects.filter(scope=KpiRun.Scope.ALL).exclude(status=KpiRun.Status.RUNNING)
    last = runs.order_by("-started_at", "-pk").first()
    last_done = runs.filter(status=KpiRun.Status.DONE).order_by("-started_at", "-pk").first()

    success = GaugeMetricFamily(
        "rfi_kpi_nightly_last_success_timestamp_seconds",
        "When the last successful full KPI recompute finished (Unix time; 0: never).",
    )
    success.add_metric([], last_done.finished_at.timestamp() if last_done else 0.0)
    yield success

    duration = GaugeMetricFamily(
        "rfi_kpi_nightly_last_duration_seconds",
        "How long the last finished full KPI recompute took.",
    )
    if last is not None and last.duration_ms is not None:
        duration.add_metric([], last.duration_ms / 1000)
        yield duration

    failed = GaugeMetricFamily(
        "rfi_kpi_nightly_last_failed", "1 if the last finished full KPI recompute failed."
    )
    failed.add_metric([], 1 if last is not None and last.status == KpiRun.Status.FAILED else 0)
    yield failed
