from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpendConfig(AppConfig):
    name = "spend"
    verbose_name = _("Spend and ledger extracts")

    def ready(self) -> None:
        # Register the tasks in every process, not only where the URLs are loaded: the
        # contracts code looks spend.rematch_region up by name (suppliers may not import
        # spend), also from management commands.
        # The ledger imports' gauges on /metrics (rfi may not import spend).
        from rfi import metrics
        from spend import tasks  # noqa: F401
        from spend.metrics import import_metrics

        metrics.register(import_metrics)
