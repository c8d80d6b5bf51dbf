"""Recompute the strategy KPIs and store them as snapshots (KPI.md; docs/kpi.md).

``kpi_recompute`` is the one write: it reads every input inside one transaction (on
PostgreSQL REPEATABLE READ, so an import committing meanwhile is seen entirely or not at
all), serialised against any other recompute, and replaces the current snapshots of its
scope with the new ones in that same transaction: a recompute that fails leaves the
previous figures current. The figures are a function of the data, so running it twice
gives the same values.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _t

from kpi import compute, facts
from kpi import definitions as d
from kpi.compute import GOODS, SERVICES, UNCLASSIFIED, LineScope, Sums, TransactionFigures
from kpi.models import (
    KpiFreshness,
    KpiRun,
    KpiSnapshot,
    Strategy,
    StrategyActivity,
    StrategyTarget,
    period_label,
)
from rfi.models import Region
from rfi.tasks import BrokerUnavailable, enqueue
from spend.models import ImportBatch

logger = logging.getLogger(__name__)

# pg_advisory_lock key shared by every recompute ("KPI" in ASCII).
LOCK_KEY = 0x4B5049
RATIO_PLACES = Decimal("0.000001")
TOP_SUPPLIERS = 100


# Serialisation ------------------------------------------------------------------------------------


def _sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


@contextmanager
def consistent_transaction() -> Iterator[None]:
    """One transaction that no other recompute interleaves with, reading one snapshot.

    PostgreSQL: a session advisory lock taken *before* the REPEATABLE READ transaction
    begins (a transaction-level lock taken inside it would wait after the snapshot was
    taken, and the second recompute would read data older than the first one's
    figures). Inside an outer transaction (tests) the transaction-level lock is used.
    SQLite: settings open every transaction IMMEDIATE, which takes the write lock at
    BEGIN, so a second recompute waits (busy timeout) for the first to commit.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            yield
        return
    if connection.in_atomic_block:
        with transaction.atomic():
            _sql("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            yield
        return
    _sql("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        with transaction.atomic():
            _sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield
    finally:
        try:
            _sql("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        except DatabaseError:  # the connection died: the session, and its lock, are gone
            logger.warning("could not release the KPI advisory lock", exc_info=True)


# The run ----------------------------------------------------------------------------------------


def kpi_recompute(*, region: Region | None = None, year: int | None = None) -> KpiRun:
    """Recompute every KPI (``region``: that region's and the collaboration's) and store them.

    ``year``: only that year's periods (the baseline year is read too). Raises whatever
    the computation raised, after recording the run as failed.
    """
    run = KpiRun.objects.create(
        scope=KpiRun.Scope.REGION if region else KpiRun.Scope.ALL, region=region, year=year
    )
    started = time.perf_counter()
    try:
        with consistent_transaction():
            # Read first, in the same snapshot as the figures: the imports they include.
            as_of = latest_imports()
            try:
                with facts.planner_settings():
                    snapshots = compute_snapshots(run=run, region=region, year=year)
                count = snapshots_replace(run=run, snapshots=snapshots, region=region, year=year)
            finally:
                compute.drop_temp_tables()
    except Exception as exc:
        run.status = KpiRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:5000]
        run.finished_at = timezone.now()
        run.duration_ms = int((time.perf_counter() - started) * 1000)
        run.save(update_fields=["status", "error", "finished_at", "duration_ms"])
        logger.exception("KPI recompute %s failed", run.pk)
        raise
    run.status = KpiRun.Status.DONE
    run.snapshot_count = count
    run.finished_at = timezone.now()
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    run.save(update_fields=["status", "snapshot_count", "finished_at", "duration_ms"])
    freshness_record(as_of, region=region)
    logger.info("KPI run %s: %d snapshots in %d ms", run.pk, count, run.duration_ms)
    return run


def snapshots_replace(
    *, run: KpiRun, snapshots: list[KpiSnapshot], region: Region | None, year: int | None
) -> int:
    """Mark the scope's current snapshots as history and store the new ones as current."""
    old = KpiSnapshot.objects.filter(is_current=True)
    if year is not None:
        old = old.filter(
            period_start__gte=dt.date(year, 1, 1), period_start__lte=dt.date(year, 12, 31)
        )
    if region is not None:
        old = old.filter(Q(region=region, key__in=d.REGION_KEYS) | Q(key__in=d.COLLABORATION_KEYS))
    old.update(is_current=False)
    KpiSnapshot.objects.bulk_create(snapshots, batch_size=2000)
    return len(snapshots)


# Periods ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    months: tuple[int, ...]  # yyyymm keys it spans
    key: int  # yyyy, yyyyq or yyyymm, as compute.transaction_figures keys it

    @property
    def label(self) -> str:
        return period_label(self.kind, self.start)

    @property
    def end(self) -> dt.date:
        last = self.months[-1]
        year, month = divmod(last, 100)
        following = dt.date(year + (month == 12), month % 12 + 1, 1)
        return following - dt.timedelta(days=1)

    def in_year(self, year: int) -> Period:
        """The same period in another year (the baseline of spot purchases)."""
        offset = (year - self.start.year) * 100
        return Period(
            kind=self.kind,
            start=self.start.replace(year=year),
            months=tuple(m + offset for m in self.months),
            key=self.key
            + (year - self.start.year) * {d.YEAR: 1, d.QUARTER: 10}.get(self.kind, 100),
        )


def year_periods(year: int, kinds: tuple[str, ...], today: dt.date) -> list[Period]:
    """The year, its quarters and months (those that have begun by ``today``)."""
    periods = []
    if d.YEAR in kinds:
        periods.append(
            Period(d.YEAR, dt.date(year, 1, 1), tuple(year * 100 + m for m in range(1, 13)), year)
        )
    if d.QUARTER in kinds:
        for q in range(1, 5):
            months = tuple(year * 100 + m for m in range(3 * q - 2, 3 * q + 1))
            periods.append(Period(d.QUARTER, dt.date(year, 3 * q - 2, 1), months, year * 10 + q))
    if d.MONTH in kinds:
        for m in range(1, 13):
            periods.append(Period(d.MONTH, dt.date(year, m, 1), (year * 100 + m,), year * 100 + m))
    return [p for p in periods if p.start <= today]


# Figures ----------------------------------------------------------------------------------------


@dataclass
class Figure:
    value: Decimal | None = None
    reason_code: str = ""
    reason_params: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.value is not None


def _na(code: str, **params) -> Figure:
    return Figure(None, code, {k: str(v) for k, v in params.items()})


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO_PLACES)


def _share(numerator, denominator, *, unavailable: Figure) -> Figure:
    if denominator is None or denominator <= 0:
        return unavailable
    return Figure(
        _ratio(numerator, denominator),
        detail={"numerator": str(numerator), "denominator": str(denominator)},
    )


def _sum_months(month_sums: dict[tuple[int, int], Sums], region_id: int, months) -> Sums:
    total = Sums()
    for ym in months:
        part = month_sums.get((region_id, ym))
        if part is not None:
            total.add(part)
    return total


def region_figures(
    *,
    code: str,
    period: Period,
    sums: Sums,
    tx: TransactionFigures | None,
    strategy: Strategy | None,
    baseline: tuple[Period, Sums, TransactionFigures | None] | None,
) -> dict[str, Figure]:
    """Every per-region KPI of one region and period (KPI.md "Per region and period")."""
    where = {"region": code, "period": period.label}
    if sums.lines == 0:
        return {key: _na("no_lines", **where) for key in d.REGION_KEYS}
    figures: dict[str, Figure] = {}
    addressable = sums.addressable
    figures["addressable_spend"] = Figure(
        addressable,
        detail={
            "lines": sums.addressable_lines,
            "excluded_lines": sums.kind_lines.get(compute.EXCLUDED, 0),
        },
    )
    for kind, name in ((GOODS, "goods"), (SERVICES, "services")):
        total = sums.total.get(kind, Decimal("0.00"))
        if not sums.kind_lines.get(kind):
            missing = _na(f"no_{name}", **where)
        else:
            missing = _na(f"{name}_not_positive", **where)
        figures[f"contract_coverage_{name}"] = _share(
            sums.supplier_matched.get(kind, Decimal("0.00")), total, unavailable=missing
        )
        figures[f"contract_loyalty_{name}"] = _share(
            sums.category_matched.get(kind, Decimal("0.00")), total, unavailable=missing
        )
    figures["compliance"] = _share(
        sums.covered_matched, sums.covered, unavailable=_na("no_covered", **where)
    )
    if tx is None or tx.transactions == 0:
        figures["spot_purchases"] = _na("no_transactions", **where)
    else:
        figures["spot_purchases"] = Figure(
            Decimal(tx.spot), detail={"transactions": tx.transactions}
        )
    figures["spot_purchase_reduction"] = _spot_reduction(
        code=code, spot=figures["spot_purchases"], strategy=strategy, baseline=baseline
    )
    goods_lines = sums.kind_lines.get(GOODS, 0)
    if sums.channel_lines == 0:
        figures["digital_order_share_top100"] = _na("no_channel", **where)
        figures["purchasing_system_share_goods"] = _na("no_channel", **where)
    else:
        if tx is None or tx.top_transactions == 0:
            figures["digital_order_share_top100"] = _na("no_transactions", **where)
        else:
            figures["digital_order_share_top100"] = Figure(
                _ratio(tx.top_e_order, tx.top_transactions),
                detail={
                    "numerator": tx.top_e_order,
                    "denominator": tx.top_transactions,
                    "suppliers": tx.top_suppliers,
                },
            )
        goods = sums.total.get(GOODS, Decimal("0.00"))
        figures["purchasing_system_share_goods"] = _share(
            sums.ordered_in_system.get(GOODS, Decimal("0.00")),
            goods,
            unavailable=_na("no_goods" if not goods_lines else "goods_not_positive", **where),
        )
    figures["unclassified_share"] = _share(
        sums.total.get(UNCLASSIFIED, Decimal("0.00")),
        addressable,
        unavailable=_na("addressable_not_positive", **where),
    )
    return figures


def _spot_reduction(
    *,
    code: str,
    spot: Figure,
    strategy: Strategy | None,
    baseline: tuple[Period, Sums, TransactionFigures | None] | None,
) -> Figure:
    if not spot.available:
        return Figure(None, spot.reason_code, spot.reason_params)
    if strategy is None or baseline is None:
        return _na("no_strategy")
    base_period, base_sums, base_tx = baseline
    where = {"region": code, "baseline": base_period.label}
    if base_sums.lines == 0:
        return _na("no_baseline_lines", **where)
    if base_tx is None or base_tx.spot == 0:
        return _na("no_baseline_spot", **where)
    return Figure(
        Decimal(1) - _ratio(spot.value, Decimal(base_tx.spot)),
        detail={
            "spot_purchases": int(spot.value),
            "baseline": base_tx.spot,
            "baseline_period": base_period.label,
        },
    )


# Collaboration ----------------------------------------------------------------------------------


def collaboration_figures(
    *,
    year: int,
    strategy: Strategy | None,
    tenders: list[compute.TenderRow],
    savings: dict[int, tuple[Decimal, Decimal]],
    joint_spend: dict[int, Decimal] | None,
    region_codes: dict[int, str],
    active_regions: list[int],
    savings_exist: bool,
) -> dict[tuple[str, int | None], Figure]:
    """The collaboration KPIs of one year; keyed (key, region id or None)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    label = str(year)
    out: dict[tuple[str, int | None], Figure] = {}

    if joint_spend is None:
        out[("joint_agreement_spend", None)] = _na("no_lines_anywhere", period=label)
    else:
        out[("joint_agreement_spend", None)] = Figure(
            sum(joint_spend.values(), Decimal("0.00")),
            detail={
                "per_region": {region_codes[r]: str(v) for r, v in sorted(joint_spend.items())}
            },
        )

    awarded = [t for t in tenders if t.award and first <= t.award <= last and t.pk in savings]
    if not awarded:
        out[("avg_price_reduction_joint", None)] = _na("no_joint_awarded", period=label)
    else:
        reductions = [_ratio(savings[t.pk][1], savings[t.pk][0]) for t in awarded]
        baseline = sum((savings[t.pk][0] for t in awarded), Decimal("0"))
        saved = sum((savings[t.pk][1] for t in awarded), Decimal("0"))
        out[("avg_price_reduction_joint", None)] = Figure(
            (sum(reductions, Decimal("0")) / len(reductions)).quantize(RATIO_PLACES),
            detail={
                "tenders": len(awarded),
                "value_weighted": str(_ratio(saved, baseline)),
                "baseline_annual_cost": str(baseline),
                "annual_saving": str(saved),
            },
        )

    if strategy is None:
        out[("joint_service_tenders", None)] = _na("no_strategy")
        out[("frameworks_with_options_share", None)] = _na("no_strategy")
    elif year < strategy.start_year:
        reason = _na(
            "before_strategy", period=label, start=strategy.start_year, end=strategy.end_year
        )
        out[("joint_service_tenders", None)] = reason
        out[("frameworks_with_options_share", None)] = reason
    else:
        window_start = dt.date(strategy.start_year, 1, 1)
        window_end = dt.date(min(year, strategy.end_year), 12, 31)
        started = [t for t in tenders if t.started_between(window_start, window_end)]
        services = [t for t in started if t.is_services]
        window = {"from": str(window_start), "to": str(window_end)}
        out[("joint_service_tenders", None)] = Figure(
            Decimal(len(services)), detail={**window, "tenders": [t.pk for t in services]}
        )
        frameworks = [t for t in started if t.kind == "framework"]
        if not frameworks:
            out[("frameworks_with_options_share", None)] = _na("no_joint_frameworks", period=label)
        else:
            with_options = sum(1 for t in frameworks if t.has_options)
            out[("frameworks_with_options_share", None)] = Figure(
                _ratio(Decimal(with_options), Decimal(len(frameworks))),
                detail={**window, "numerator": with_options, "denominator": len(frameworks)},
            )

    if not savings_exist:
        out[("annual_savings", None)] = _na("no_savings")
    elif strategy is None:
        # The target counts new savings from the strategy's first day: no strategy, no start.
        out[("annual_savings", None)] = _na("no_strategy")
    else:
        since = dt.date(strategy.start_year, 1, 1)
        total, per_region, records = compute.savings_active(year, since=since)
        out[("annual_savings", None)] = Figure(
            total,
            detail={
                "since": str(since),
                "records": records,
                "per_region": {
                    region_codes.get(r, str(r)): str(v) for r, v in sorted(per_region.items())
                },
            },
        )

    in_plan = [t for t in tenders if t.in_plan_during(first, last)]
    if not in_plan:
        out[("regions_per_joint_tender", None)] = _na("no_joint_tenders", period=label)
        for region_id in active_regions:
            out[("participation_per_region", region_id)] = _na("no_joint_tenders", period=label)
    else:
        regions = sum(len(t.regions) for t in in_plan)
        out[("regions_per_joint_tender", None)] = Figure(
            (Decimal(regions) / len(in_plan)).quantize(RATIO_PLACES),
            detail={"tenders": len(in_plan), "participations": regions},
        )
        counts: dict[int, int] = defaultdict(int)
        for tender in in_plan:
            for region_id in tender.regions:
                counts[region_id] += 1
        for region_id in sorted(set(active_regions) | set(counts)):
            out[("participation_per_region", region_id)] = Figure(
                Decimal(counts.get(region_id, 0)), detail={"tenders": len(in_plan)}
            )
    return out


# Putting it together ----------------------------------------------------------------------------


class _Strategies:
    def __init__(self):
        self.all = list(Strategy.objects.order_by("-start_year", "-pk"))

    def for_year(self, year: int) -> Strategy | None:
        """The strategy in force in ``year``; None outside every strategy."""
        covering = [s for s in self.all if s.covers(year)]
        return covering[0] if covering else None


def _batch_years(batches) -> set[int]:
    years: set[int] = set()
    for b in batches:
        if b.period_start and b.period_end:
            years.update(range(b.period_start.year, b.period_end.year + 1))
    return years


def _batch_ids_for(batches, region_id: int | None, first: dt.date, last: dt.date) -> list[int]:
    return [
        b.pk
        for b in batches
        if (region_id is None or b.region_id == region_id)
        and (b.period_start is None or b.period_start <= last)
        and (b.period_end is None or b.period_end >= first)
    ]


def compute_snapshots(
    *, run: KpiRun, region: Region | None = None, year: int | None = None, source: str = "facts"
) -> list[KpiSnapshot]:
    """Every figure of the scope as unsaved snapshots of ``run``.

    ``source``: "facts", the rollups kpi.facts maintains (what every run reads), or
    "lines", the line-level reference computation of kpi.compute (the equality test, and
    a check after a repair); both give the same figures.
    """
    now = timezone.now()
    today = timezone.localdate()
    strategies = _Strategies()
    all_batches = compute.current_batches()
    region_codes = dict(Region.objects.values_list("pk", "code"))
    active = compute.active_region_ids()
    regions = [region.pk] if region is not None else active
    scope_batches = [b for b in all_batches if region is None or b.region_id == region.pk]

    read_years = None
    if year is not None:
        strategy = strategies.for_year(year)
        read_years = tuple(sorted({year} | ({strategy.baseline_year} if strategy else set())))
    scope = LineScope(tuple(b.pk for b in scope_batches), read_years)
    if source == "lines":
        month_sums = compute.month_sums(scope)
        compute.build_transactions(scope)
        tx_source = None
        joint_spend = compute.joint_spend
    else:
        month_sums = facts.month_sums(scope)
        tx_source = facts.transactions_source(scope)
        joint_spend = facts.joint_spend
    tx = {
        kind: compute.transaction_figures(kind, TOP_SUPPLIERS, source=tx_source)
        for kind in d.PERIOD_KINDS
    }

    data_years = {ym // 100 for (_r, ym) in month_sums} | _batch_years(all_batches)
    if year is not None:
        years = [year]
    else:
        years = sorted(y for y in data_years if y <= today.year)
    # A region without lines of its own still gets "not available" for the years others have.
    for region_id, _ym in month_sums:
        if region is None and region_id not in regions:
            regions.append(region_id)

    snapshots: list[KpiSnapshot] = []

    def add(key, region_id, period: Period, figure: Figure, batch_ids):
        if figure.reason_code == "no_strategy" and strategies.all:
            # Strategies exist, but none is in force that year: no baseline, no window.
            figure = _na("no_strategy_for_year", year=period.start.year)
        detail = dict(figure.detail)
        reason = ""
        if not figure.available:
            detail["reason_code"] = figure.reason_code
            detail["reason_params"] = figure.reason_params
            with translation.override("en"):
                reason = str(d.REASONS[figure.reason_code]) % figure.reason_params
        value = figure.value
        if value is not None and d.get(key).unit == d.DKK:
            value = value.quantize(Decimal("0.01"))
        snapshots.append(
            KpiSnapshot(
                run=run,
                key=key,
                region_id=region_id,
                period_kind=period.kind,
                period_start=period.start,
                period_label=period.label,
                value=value,
                available=figure.available,
                reason=reason,
                detail=detail,
                batch_ids=batch_ids,
                computed_at=now,
            )
        )

    for region_id in regions:
        code = region_codes.get(region_id, str(region_id))
        for y in years:
            strategy = strategies.for_year(y)
            for period in year_periods(y, (d.YEAR, d.QUARTER, d.MONTH), today):
                sums = _sum_months(month_sums, region_id, period.months)
                baseline = None
                if strategy is not None:
                    base_period = period.in_year(strategy.baseline_year)
                    baseline = (
                        base_period,
                        _sum_months(month_sums, region_id, base_period.months),
                        tx[period.kind].get((region_id, base_period.key)),
                    )
                figures = region_figures(
                    code=code,
                    period=period,
                    sums=sums,
                    tx=tx[period.kind].get((region_id, period.key)),
                    strategy=strategy,
                    baseline=baseline,
                )
                batch_ids = _batch_ids_for(scope_batches, region_id, period.start, period.end)
                for key in d.REGION_KEYS:
                    add(key, region_id, period, figures[key], batch_ids)

    # The collaboration: every year with lines or tender activity (one year when asked).
    collaboration_years = (
        [year]
        if year is not None
        else sorted({*years, *(y for y in compute.tender_years() if y <= today.year)})
    )
    joint = compute.joint_tenders()
    tenders = compute.joint_tender_rows(joint)
    savings = compute.savings_by_tender(joint)
    savings_exist = compute.savings_exist()
    joint_by_year = _joint_spend(
        joint=joint,
        scope=scope,
        region=region,
        years=collaboration_years,
        with_lines=data_years,
        compute_joint=joint_spend,
    )
    for y in collaboration_years:
        period = year_periods(y, (d.YEAR,), dt.date(y, 12, 31))[0]
        figures = collaboration_figures(
            year=y,
            strategy=strategies.for_year(y),
            tenders=tenders,
            savings=savings,
            joint_spend=joint_by_year.get(y),
            region_codes=region_codes,
            active_regions=active,
            savings_exist=savings_exist,
        )
        spend_batches = _batch_ids_for(all_batches, None, period.start, period.end)
        for (key, region_id), figure in figures.items():
            batch_ids = spend_batches if key == "joint_agreement_spend" else []
            add(key, region_id, period, figure, batch_ids)
    return snapshots


def _joint_spend(
    *, joint, scope: LineScope, region, years, with_lines: set[int], compute_joint
) -> dict[int, dict[int, Decimal]]:
    """Year → region id → joint-agreement spend; None-valued years have no lines at all.

    A region's recompute scans only its own lines and takes the other regions' parts
    from the current snapshot (their lines did not change; the nightly run redoes all).
    """
    per_year: dict[int, dict[int, Decimal]] = {}
    found = compute_joint(scope, joint)
    for (region_id, y), value in found.items():
        per_year.setdefault(y, {})[region_id] = value
    if region is not None:
        codes = dict(Region.objects.values_list("code", "pk"))
        previous = KpiSnapshot.objects.filter(
            is_current=True,
            key="joint_agreement_spend",
            region__isnull=True,
            period_kind=d.YEAR,
            period_start__in=[dt.date(y, 1, 1) for y in years],
        )
        for snapshot in previous:
            for code, value in (snapshot.detail.get("per_region") or {}).items():
                region_id = codes.get(code)
                if region_id is not None and region_id != region.pk:
                    per_year.setdefault(snapshot.period_start.year, {})[region_id] = Decimal(value)
    result: dict[int, dict[int, Decimal]] = {}
    for y in years:
        if y in per_year or y in with_lines:
            result[y] = per_year.get(y, {})
    return result


# Reference data ---------------------------------------------------------------------------------

STRATEGY_FILE = Path(__file__).resolve().parent / "data" / "strategy_2015_2020.json"


@dataclass
class StrategyLoadResult:
    strategy: Strategy
    created: bool
    targets_created: int
    activities_created: int = 0


@transaction.atomic
def strategy_load(*, path: Path | str = STRATEGY_FILE) -> StrategyLoadResult:
    """Load a strategy, its targets and its action plan from JSON; idempotent.

    Rows that exist are left as they are: the secretariat edits targets and activities, and
    re-running seed_reference must not undo that. Activities are added only to a strategy
    that has none yet.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for target in data["targets"]:
        if target["key"] not in d.BY_KEY:
            raise ValueError(f"{path}: unknown KPI key {target['key']!r}")
        if target["unit"] != d.get(target["key"]).unit:
            raise ValueError(f"{path}: {target['key']} is measured in {d.get(target['key']).unit}")
    strategy, created = Strategy.objects.get_or_create(
        code=data["code"],
        defaults={
            "name": data["name"],
            "start_year": data["start_year"],
            "end_year": data["end_year"],
            "baseline_year": data["baseline_year"],
        },
    )
    targets_created = 0
    for target in data["targets"]:
        _obj, made = StrategyTarget.objects.get_or_create(
            strategy=strategy,
            key=target["key"],
            defaults={
                "comparison": target["comparison"],
                "value": Decimal(target["value"]),
                "unit": target["unit"],
                "note": target.get("note", ""),
            },
        )
        targets_created += made
    activities_created = 0
    if not strategy.activities.exists():
        for position, activity in enumerate(data.get("activities", []), start=1):
            StrategyActivity.objects.create(
                strategy=strategy,
                position=position,
                objective=activity.get("objective", ""),
                title=activity["title"],
                due_date=dt.date.fromisoformat(activity["due_date"])
                if activity.get("due_date")
                else None,
            )
            activities_created += 1
    return StrategyLoadResult(strategy, created, targets_created, activities_created)


# Strategies entered by the secretariat ----------------------------------------------------------


@transaction.atomic
def strategy_check(*, name, code, start_year, end_year, baseline_year) -> None:
    """Every problem with a new strategy at once (code taken, period, years); writes nothing."""
    errors: dict[str, list[str]] = {}
    if code and Strategy.objects.filter(code__iexact=code).exists():
        errors["code"] = [_t("A strategy with this code already exists.")]
    strategy = Strategy(
        name=name or "",
        code=code or "",
        start_year=start_year,
        end_year=end_year,
        baseline_year=baseline_year,
    )
    try:
        strategy.full_clean(validate_unique=False)
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def strategy_copy(
    *,
    source: Strategy,
    name: str,
    code: str,
    start_year: int,
    end_year: int,
    baseline_year: int,
) -> Strategy:
    """A new strategy starting from a copy of ``source``: its targets and its activities.

    The copied activities start over (not started, no note); their due dates move by the
    difference between the two strategies' last years. Raises ValidationError when the
    period overlaps another strategy's or the code is taken.
    """
    strategy_check(
        name=name, code=code, start_year=start_year, end_year=end_year, baseline_year=baseline_year
    )
    strategy = Strategy(
        name=name,
        code=code,
        start_year=start_year,
        end_year=end_year,
        baseline_year=baseline_year,
        copied_from=source,
    )
    strategy.full_clean()
    strategy.save()
    StrategyTarget.objects.bulk_create(
        StrategyTarget(
            strategy=strategy,
            key=t.key,
            comparison=t.comparison,
            value=t.value,
            unit=t.unit,
            note=t.note,
        )
        for t in source.targets.all()
    )
    shift = end_year - source.end_year
    StrategyActivity.objects.bulk_create(
        StrategyActivity(
            strategy=strategy,
            position=a.position,
            objective=a.objective,
            title=a.title,
            responsible_region_id=a.responsible_region_id,
            due_date=_shift_years(a.due_date, shift),
        )
        for a in source.activities.all()
    )
    logger.info("strategy %s copied from %s", strategy.code, source.code)
    return strategy


def _shift_years(day: dt.date | None, years: int) -> dt.date | None:
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def activity_update(*, activity: StrategyActivity, status: str, note: str) -> StrategyActivity:
    """The secretariat keeps an activity up to date: its status and note."""
    if status not in StrategyActivity.Status.values:
        raise ValidationError({"status": _t("Choose a status from the list.")})
    activity.status = status
    activity.note = note.strip()
    activity.save(update_fields=["status", "note"])
    return activity


DEMO_STRATEGY_CODE = "DEMO-2027"


def strategy_demo_load(*, baseline_year: int) -> tuple[Strategy, bool]:
    """The demo successor strategy ("Demo: strategi 2021–2027"), copied from the 2015–2020
    strategy with the demo's first year as baseline, so the demo dashboards show verdicts.

    Clearly marked as demo data in its name and code; idempotent.
    """
    existing = Strategy.objects.filter(code=DEMO_STRATEGY_CODE).first()
    if existing is not None:
        return existing, False
    source = (
        Strategy.objects.filter(code="RFI-2020").first()
        or Strategy.objects.order_by("-start_year").first()
    )
    if source is None:
        raise ValueError("Load the reference strategy first (seed_reference).")
    last_year = max(2027, baseline_year + 2)
    strategy = strategy_copy(
        source=source,
        name=f"Demo: strategi 2021–{last_year}",
        code=DEMO_STRATEGY_CODE,
        start_year=2021,
        end_year=last_year,
        baseline_year=baseline_year,
    )
    return strategy, True


# Freshness ----------------------------------------------------------------------------------------
# A region's figures are "as of" the latest import batch they include (KpiFreshness). A
# finished import newer than that means a refresh is owed: the one sent after the import was
# lost (a killed worker, a broker outage) or has not run yet. The dashboard says so, and
# kpi.refresh_owed (beat, every minute) sends the refresh again. docs/operations.md.
FINISHED_IMPORTS = (ImportBatch.Status.DONE, ImportBatch.Status.SUPERSEDED)
REFRESH_TASK = "kpi.recompute_region"


def _last_finished(region_ref) -> QuerySet:
    """The region's finished imports, the one that finished last first. By finishing time,
    not id: a retried import (a killed worker) finishes after uploads sent later, and the
    figures must follow it too. One region's switch-ins are serialised, so their finishing
    times are in commit order."""
    return ImportBatch.objects.filter(region=region_ref, status__in=FINISHED_IMPORTS).order_by(
        F("finished_at").desc(nulls_last=True), "-pk"
    )


def latest_imports() -> dict[int, int]:
    """The id of each region's latest finished import (done, or since replaced)."""
    rows = (
        Region.objects.annotate(latest=Subquery(_last_finished(OuterRef("pk")).values("pk")[:1]))
        .filter(latest__isnull=False)
        .values_list("pk", "latest")
    )
    return dict(rows)


def _finished_later(batch_id: int | None, than: int | None) -> bool:
    """Whether import ``batch_id`` finished after import ``than`` (None: none)."""
    if batch_id is None or batch_id == than:
        return False
    if than is None:
        return True
    times = dict(
        ImportBatch.objects.filter(pk__in=[batch_id, than]).values_list("pk", "finished_at")
    )
    never = dt.datetime.min.replace(tzinfo=dt.UTC)

    def order(pk: int) -> tuple:
        return (times.get(pk) or never, pk)

    return order(batch_id) > order(than)


def freshness_record(as_of: dict[int, int], *, region: Region | None) -> None:
    """Note the imports the just-stored figures include (never moving a region backwards)."""
    region_ids = (
        [region.pk]
        if region is not None
        else list(Region.objects.filter(active=True).values_list("pk", flat=True))
    )
    now = timezone.now()
    for region_id in region_ids:
        batch_id = as_of.get(region_id)
        row, created = KpiFreshness.objects.get_or_create(
            region_id=region_id, defaults={"batch_id": batch_id, "computed_at": now}
        )
        if created:
            continue
        if row.batch_id is None or _finished_later(batch_id, row.batch_id):
            row.batch_id = batch_id
        row.computed_at = now
        row.refresh_sent_at = None
        row.save(update_fields=["batch_id", "computed_at", "refresh_sent_at"])


@dataclass(frozen=True)
class Freshness:
    """What the dashboard says about a region's figures."""

    as_of_batch: int | None
    latest_batch: int | None
    latest_at: dt.datetime | None

    @property
    def stale(self) -> bool:
        """An import finished after the one the figures are as of (kpi.services.latest_imports)."""
        return self.latest_batch is not None and self.as_of_batch != self.latest_batch


def freshness_for(region: Region) -> Freshness:
    latest = _last_finished(region).values_list("pk", "finished_at").first()
    row = KpiFreshness.objects.filter(region=region).values_list("batch_id", flat=True).first()
    return Freshness(
        as_of_batch=row,
        latest_batch=latest[0] if latest else None,
        latest_at=latest[1] if latest else None,
    )


def kpi_refresh_owed(*, now: dt.datetime | None = None) -> list[int]:
    """Send the refresh of every region whose figures are older than its latest import.

    Left alone: an import finished under KPI_REFRESH_OWED_GRACE_SECONDS ago (its own
    refresh is on the way) and a region whose refresh was sent again under
    KPI_REFRESH_RESEND_SECONDS ago (it waits in the queue or runs). Returns the region ids
    sent; stops at the first broker failure (the next run tries again).
    """
    from celery import current_app

    now = now or timezone.now()
    grace = dt.timedelta(seconds=settings.KPI_REFRESH_OWED_GRACE_SECONDS)
    resend = dt.timedelta(seconds=settings.KPI_REFRESH_RESEND_SECONDS)
    latest = latest_imports()
    finished = dict(
        ImportBatch.objects.filter(pk__in=latest.values()).values_list("pk", "finished_at")
    )
    known = {row.region_id: row for row in KpiFreshness.objects.filter(region_id__in=latest)}
    active = set(Region.objects.filter(active=True, pk__in=latest).values_list("pk", flat=True))
    sent = []
    for region_id, batch_id in sorted(latest.items()):
        row = known.get(region_id)
        if region_id not in active or (row and row.batch_id == batch_id):
            continue
        when = finished.get(batch_id)
        if when and when > now - grace:
            continue
        if row and row.refresh_sent_at and row.refresh_sent_at > now - resend:
            continue
        KpiFreshness.objects.update_or_create(
            region_id=region_id, defaults={"refresh_sent_at": now}
        )
        try:
            enqueue(current_app.tasks[REFRESH_TASK], region_id)
        except BrokerUnavailable:
            KpiFreshness.objects.filter(region_id=region_id).update(refresh_sent_at=None)
            logger.warning("KPI refresh owed to region %s not sent: the broker is down", region_id)
            break
        sent.append(region_id)
    if sent:
        logger.info("KPI refresh owed: sent for regions %s", sent)
    return sent
