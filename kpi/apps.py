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

        # The KPI rollups follow every write of the ledger, in its transaction (kpi.facts).
        from spend import signals

        signals.ledger_import_started.connect(
            _import_started, dispatch_uid="kpi.import_facts.import_started"
        )
        signals.ledger_switched_in.connect(_switched_in, dispatch_uid="kpi.facts.switched_in")
        signals.ledger_rematched.connect(_rematched, dispatch_uid="kpi.facts.rematched")


def _import_started(sender, *, batch, **kwargs):
    from kpi.import_facts import ImportFacts

    return ImportFacts(batch_id=batch.pk, region_id=batch.region_id)


def _switched_in(sender, *, batch, period, replaced, trimmed, observed=(), **kwargs) -> None:
    from kpi import facts
    from kpi.import_facts import ImportFacts

    collected = next(
        (o for o in observed if isinstance(o, ImportFacts) and o.batch_id == batch.pk), None
    )
    facts.batch_switched_in(
        batch=batch, period=period, replaced=replaced, trimmed=trimmed, collected=collected
    )


def _rematched(sender, *, region_ids, **kwargs) -> None:
    from kpi import facts

    facts.regions_rematched(region_ids)
