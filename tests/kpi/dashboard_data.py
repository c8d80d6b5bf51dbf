"""Stored KPI figures for the dashboard tests: snapshots written directly, no ledger lines.

The dashboards read snapshots only, so the tests set the figures they check:

Strategy "Teststrategi 2021–2026" (baseline 2020) with targets
  contract_coverage_goods ≥ 0.80, contract_coverage_services ≥ 0.75, compliance ≥ 0.95,
  digital_order_share_top100 ≥ 0.95, spot_purchases ≤ 100,
  joint_agreement_spend ≥ 2,000,000,000 DKK, annual_savings ≥ 1,000,000,000 DKK,
  avg_price_reduction_joint ≥ 0.15.

Region Midtjylland (RM):
  contract_coverage_goods     2024 0.79, 2025 0.823 (on track, +3.3 points),
                              months 2025-01 0.81, 2025-02 0.83, 2025-03 0.85
  contract_coverage_services  2025 0.70 (off track)
  compliance                  2025 0.96 (on track)
  spot_purchases              2025 120 (≤ 100: off track; lower is better)
  digital_order_share_top100  2025 not available: no ordering-channel column
  addressable_spend           2025 12,345,678 DKK (no target)
Region Syddanmark (RSD): contract_coverage_goods 2025 0.85.
The collaboration, 2025: joint_agreement_spend 1,500,000,000; annual_savings 600,000,000;
  avg_price_reduction_joint 0.12 (value-weighted 0.14, 3 tenders);
  participation_per_region RM 7, RSD 5.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from kpi import definitions as d
from kpi.models import KpiRun, KpiSnapshot, Strategy, StrategyTarget, period_label
from rfi.models import Region
from rfi.services import collaboration_load

TARGETS = {
    "contract_coverage_goods": ("gte", "0.80"),
    "contract_coverage_services": ("gte", "0.75"),
    "compliance": ("gte", "0.95"),
    "digital_order_share_top100": ("gte", "0.95"),
    "spot_purchases": ("lte", "100"),
    "joint_agreement_spend": ("gte", "2000000000"),
    "annual_savings": ("gte", "1000000000"),
    "avg_price_reduction_joint": ("gte", "0.15"),
}


def snapshot(
    run: KpiRun,
    key: str,
    region: Region | None,
    year: int,
    value: str | None,
    *,
    month: int | None = None,
    detail: dict | None = None,
) -> KpiSnapshot:
    kind = d.MONTH if month else d.YEAR
    start = dt.date(year, month or 1, 1)
    return KpiSnapshot.objects.create(
        run=run,
        key=key,
        region=region,
        period_kind=kind,
        period_start=start,
        period_label=period_label(kind, start),
        value=Decimal(value) if value is not None else None,
        available=value is not None,
        reason="" if value is not None else "Not available (English fallback).",
        detail=detail or {},
        computed_at=timezone.now(),
    )


def build() -> dict[str, Region]:
    collaboration_load(path=settings.COLLABORATION_FILE)
    regions = {r.code: r for r in Region.objects.all()}
    rm, rsd = regions["RM"], regions["RSD"]
    strategy = Strategy.objects.create(
        name="Teststrategi", code="TEST-2026", start_year=2021, end_year=2026, baseline_year=2020
    )
    for key, (comparison, value) in TARGETS.items():
        StrategyTarget.objects.create(
            strategy=strategy,
            key=key,
            comparison=comparison,
            value=Decimal(value),
            unit=d.get(key).unit,
        )
    run = KpiRun.objects.create(status=KpiRun.Status.DONE, finished_at=timezone.now())
    snapshot(run, "contract_coverage_goods", rm, 2024, "0.79")
    snapshot(run, "contract_coverage_goods", rm, 2025, "0.823")
    for month, value in ((1, "0.81"), (2, "0.83"), (3, "0.85")):
        snapshot(run, "contract_coverage_goods", rm, 2025, value, month=month)
    snapshot(run, "contract_coverage_services", rm, 2025, "0.70")
    snapshot(run, "compliance", rm, 2025, "0.96")
    snapshot(run, "spot_purchases", rm, 2025, "120")
    snapshot(
        run,
        "digital_order_share_top100",
        rm,
        2025,
        None,
        detail={"reason_code": "no_channel", "reason_params": {"region": "RM", "period": "2025"}},
    )
    snapshot(run, "addressable_spend", rm, 2025, "12345678.00")
    snapshot(run, "contract_coverage_goods", rsd, 2025, "0.85")
    snapshot(run, "joint_agreement_spend", None, 2025, "1500000000.00")
    snapshot(run, "annual_savings", None, 2025, "600000000.00")
    snapshot(
        run,
        "avg_price_reduction_joint",
        None,
        2025,
        "0.12",
        detail={"tenders": 3, "value_weighted": "0.14"},
    )
    snapshot(run, "participation_per_region", rm, 2025, "7")
    snapshot(run, "participation_per_region", rsd, 2025, "5")
    return regions
