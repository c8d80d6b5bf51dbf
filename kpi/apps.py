from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpiConfig(AppConfig):
    name = "kpi"
    verbose_name = _("Strategy KPIs")

    def ready(self) -> None:
        # Register the tasks in every process: spend looks kpi.recompute_region up by name
        # (spend may not import kpi), also from management commands and the importer.
        from kpi import tasks  # noqa: F401
        from kpi.metrics import kpi_run_metrics

        # The nightly run's gauges on /metrics (rfi may not import kpi).
        from rfi import metrics

        metrics.register(kpi_run_metrics)
