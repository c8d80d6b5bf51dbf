"""Read queries over stored KPI figures: dashboards, the report command and the API share them.

Every reader reads current snapshots (``KpiSnapshot.is_current``): the figures of the
latest successful run that covered them. Nothing here touches ledger lines.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import django_filters
from django import forms
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, Substr
from django.utils.translation import gettext as _

from kpi import definitions
from kpi.models import KpiRun, KpiSnapshot, Strategy, StrategyActivity, StrategyTarget
from rfi import permissions
from rfi.models import Region
from spend import selectors as spend_selectors
from spend.models import LedgerLine

# Strategies and targets -----------------------------------------------------------------------


def strategy_for_year(year: int) -> Strategy | None:
    """The strategy in force in ``year`` (its period covers it); None outside every strategy.

    A year outside every strategy is shown with its figures and no targets: an expired
    strategy's targets never judge a later year (docs/kpi-strategies.md).
    """
    return (
        Strategy.objects.filter(start_year__lte=year, end_year__gte=year)
        .order_by("-start_year", "-pk")
        .first()
    )


def strategy_latest() -> Strategy | None:
    """The strategy that starts last (the one a new strategy is copied from by default)."""
    return Strategy.objects.order_by("-start_year", "-pk").first()


def strategies_all() -> QuerySet[Strategy]:
    return (
        Strategy.objects.select_related("copied_from")
        .annotate(
            target_count=Count("targets", distinct=True),
            activity_count=Count("activities", distinct=True),
        )
        .order_by("-start_year", "-pk")
    )


def strategies_by_year(years) -> dict[int, Strategy | None]:
    """Year → the strategy in force, for several years in one query."""
    strategies = list(Strategy.objects.order_by("-start_year", "-pk"))
    return {y: next((s for s in strategies if s.covers(y)), None) for y in years}


def targets_for_year(year: int) -> dict[str, StrategyTarget]:
    """Key → target of the strategy in force in ``year`` (none outside every strategy)."""
    strategy = strategy_for_year(year)
    if strategy is None:
        return {}
    return {target.key: target for target in strategy.targets.all()}


def activities_for(
    *, strategy: Strategy | None, status: str = "", region: Region | None = None
) -> list:
    """The action plan's activities of a strategy, filtered by status and responsible region."""
    if strategy is None:
        return []
    qs = StrategyActivity.objects.filter(strategy=strategy).select_related("responsible_region")
    if status:
        qs = qs.filter(status=status)
    if region is not None:
        qs = qs.filter(responsible_region=region)
    return list(qs.order_by("position", "pk"))


# Snapshots ----------------------------------------------------------------------------------------


def snapshots_current() -> QuerySet[KpiSnapshot]:
    return KpiSnapshot.objects.filter(is_current=True).select_related("region")


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def snapshots_for(
    *,
    year: int | None = None,
    region: Region | None = None,
    collaboration: bool = False,
    keys: list[str] | tuple[str, ...] | None = None,
    period_kind: str | None = definitions.YEAR,
) -> QuerySet[KpiSnapshot]:
    """Current snapshots, narrowed.

    ``region``: that region's figures; ``collaboration=True``: the collaboration-wide
    figures (region empty) plus participation_per_region for every region; neither: all.
    ``period_kind=None``: every kind.
    """
    qs = snapshots_current()
    if year is not None:
        start, end = _year_bounds(year)
        qs = qs.filter(period_start__gte=start, period_start__lte=end)
    if region is not None:
        qs = qs.filter(region=region)
    elif collaboration:
        qs = qs.filter(key__in=definitions.COLLABORATION_KEYS)
    if keys:
        qs = qs.filter(key__in=keys)
    if period_kind:
        qs = qs.filter(period_kind=period_kind)
    return qs.order_by("key", "region__code", "period_start")


def snapshots_visible_to(user) -> QuerySet[KpiSnapshot]:
    """The current snapshots a user may read (the same rights as the dashboards).

    Chiefs, UFO members and the secretariat read every region's and the collaboration's
    figures (rfi.permissions.can_view_collaboration_kpis); anyone else with a role reads
    the per-region KPIs of the regions they hold a role in; everyone else nothing.
    """
    qs = snapshots_current()
    if permissions.can_view_collaboration_kpis(user):
        return qs
    if not permissions.can_view_internal_pages(user):
        return qs.none()
    region_ids = [r.pk for r in permissions.regions_where(user, permissions.can_view_region_kpis)]
    return qs.filter(key__in=definitions.REGION_KEYS, region_id__in=region_ids)


def snapshot_get(
    *, key: str, region: Region | None, period_kind: str, period_start: date
) -> KpiSnapshot | None:
    return (
        snapshots_current()
        .filter(key=key, region=region, period_kind=period_kind, period_start=period_start)
        .first()
    )


def region_comparison(*, key: str, year: int) -> list[KpiSnapshot]:
    """One key's yearly figure for every region, side by side (ordered by region code)."""
    return list(
        snapshots_current()
        .filter(key=key, period_kind=definitions.YEAR, period_start=date(year, 1, 1))
        .exclude(region__isnull=True)
        .order_by("region__code")
    )


def years_available(*, region: Region | None = None) -> list[int]:
    """The years that have figures (a current yearly snapshot that is available), newest first.

    With a region: the years that region has figures for (a year with only the
    collaboration's figures, e.g. tenders before the region's ledger, is not offered).
    """
    qs = KpiSnapshot.objects.filter(is_current=True, period_kind=definitions.YEAR, available=True)
    if region is not None:
        qs = qs.filter(region=region)
    starts = qs.values_list("period_start", flat=True).distinct()
    return sorted({start.year for start in starts}, reverse=True)


def run_latest(*, successful: bool = True) -> KpiRun | None:
    qs = KpiRun.objects.all()
    if successful:
        qs = qs.filter(status=KpiRun.Status.DONE)
    return qs.order_by("-started_at", "-pk").first()


# Cards ------------------------------------------------------------------------------------------


@dataclass
class KpiCard:
    """One KPI for one region (or the collaboration) and one year, ready to show."""

    definition: definitions.KpiDefinition
    region: Region | None
    year: int
    snapshot: KpiSnapshot | None
    previous: KpiSnapshot | None
    target: StrategyTarget | None
    strategy: Strategy | None = None

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def available(self) -> bool:
        return self.snapshot is not None and self.snapshot.available

    @property
    def value(self) -> Decimal | None:
        return self.snapshot.value if self.available else None

    @property
    def reason(self) -> str:
        if self.snapshot is None:
            return _("Not computed yet.")
        return self.snapshot.reason

    @property
    def on_track(self) -> bool | None:
        """Whether the value meets the target (None: no value or no target)."""
        if self.target is None:
            return None
        return self.target.is_met(self.value)

    @property
    def change(self) -> Decimal | None:
        """Change from the previous year (None when either is not available)."""
        if self.value is None or self.previous is None or not self.previous.available:
            return None
        return self.value - self.previous.value


def cards_for(*, year: int, region: Region | None) -> list[KpiCard]:
    """Every KPI of a region (or, with None, the collaboration) for a year, in registry order.

    The collaboration's participation_per_region is given for ``region`` when one is
    passed; with None it is left out (it has a figure per region, see region_comparison).
    """
    if region is not None:
        wanted = [d for d in definitions.DEFINITIONS if d.scope == definitions.REGION]
    else:
        wanted = [d for d in definitions.DEFINITIONS if not d.per_region]
    keys = [d.key for d in wanted]
    current = _by_key(year=year, region=region, keys=keys)
    previous = _by_key(year=year - 1, region=region, keys=keys)
    strategy = strategy_for_year(year)
    targets = {t.key: t for t in strategy.targets.all()} if strategy is not None else {}
    return [
        KpiCard(
            definition=d,
            region=region,
            year=year,
            snapshot=current.get(d.key),
            previous=previous.get(d.key),
            target=targets.get(d.key),
            strategy=strategy,
        )
        for d in wanted
    ]


def _by_key(*, year: int, region: Region | None, keys: list[str]) -> dict[str, KpiSnapshot]:
    qs = snapshots_current().filter(
        key__in=keys, period_kind=definitions.YEAR, period_start=date(year, 1, 1)
    )
    qs = qs.filter(region=region) if region is not None else qs.filter(region__isnull=True)
    return {snapshot.key: snapshot for snapshot in qs}


# Filters (API) ----------------------------------------------------------------------------------


class YearFilter(django_filters.NumberFilter):
    """A calendar year: a whole number the date functions can take (1900–2999)."""

    field_class = forms.IntegerField


class SnapshotFilter(django_filters.FilterSet):
    """?key=compliance&region=RM&period=2025 (or 2025-Q1, 2025-03), ?region=none for the
    collaboration, ?period_kind=month, ?year=2025."""

    key = django_filters.ChoiceFilter(choices=definitions.KEY_CHOICES)
    region = django_filters.CharFilter(method="filter_region")
    period = django_filters.CharFilter(field_name="period_label")
    period_kind = django_filters.ChoiceFilter(choices=KpiSnapshot.PeriodKind.choices)
    year = YearFilter(method="filter_year", min_value=1900, max_value=2999)

    class Meta:
        model = KpiSnapshot
        fields = ["key", "region", "period", "period_kind", "year", "available"]

    def filter_region(self, queryset, name, value):
        value = value.strip()
        if value.lower() in ("none", "null", "-"):
            return queryset.filter(region__isnull=True)
        return queryset.filter(region__code__iexact=value)

    def filter_year(self, queryset, name, value):
        start, end = _year_bounds(int(value))
        return queryset.filter(period_start__gte=start, period_start__lte=end)


# Dashboard selectors ------------------------------------------------------------------------
# For kpi/dashboard.py (the dashboards, the monthly report and the export). The
# dashboards read stored snapshots only, a few queries whatever the number of ledger lines;
# the two drill-down reads at the end (compliance leaks, the top-100 suppliers' e-orders)
# are the only ones that read lines, one region and year at a time.


def series_for(
    *,
    region: Region | None,
    keys: list[str] | tuple[str, ...],
    period_kinds: tuple[str, ...] = (definitions.YEAR, definitions.MONTH),
) -> dict[str, list[KpiSnapshot]]:
    """Key → that key's current snapshots over time (region None: the collaboration), one query.

    Only what the trend charts and tables read: several hundred rows per page, so the JSON
    details (parsed per row) are left in the database."""
    qs = KpiSnapshot.objects.filter(
        is_current=True, key__in=keys, period_kind__in=period_kinds
    ).only("key", "region_id", "period_kind", "period_start", "period_label", "value", "available")
    qs = qs.filter(region=region) if region is not None else qs.filter(region__isnull=True)
    result: dict[str, list[KpiSnapshot]] = {key: [] for key in keys}
    for snapshot in qs.order_by("key", "period_kind", "period_start"):
        result[snapshot.key].append(snapshot)
    return result


def comparison_for(
    *, year: int, keys: list[str] | tuple[str, ...]
) -> dict[str, dict[int, KpiSnapshot]]:
    """Key → region id → the region's yearly snapshot, every region in one query."""
    qs = KpiSnapshot.objects.filter(
        is_current=True,
        key__in=keys,
        period_kind=definitions.YEAR,
        period_start=date(year, 1, 1),
        region__isnull=False,
    )
    result: dict[str, dict[int, KpiSnapshot]] = {key: {} for key in keys}
    for snapshot in qs:
        result[snapshot.key][snapshot.region_id] = snapshot
    return result


def months_available(*, region: Region | None = None) -> list[date]:
    """First days of the months with current monthly snapshots, newest first."""
    qs = KpiSnapshot.objects.filter(is_current=True, period_kind=definitions.MONTH)
    if region is not None:
        qs = qs.filter(region=region)
    starts = qs.values_list("period_start", flat=True).distinct()
    return sorted(set(starts), reverse=True)


def month_snapshots(*, region: Region, month: date) -> dict[str, KpiSnapshot]:
    """Key → the region's current snapshot of one month."""
    qs = KpiSnapshot.objects.filter(
        is_current=True, region=region, period_kind=definitions.MONTH, period_start=month
    )
    return {snapshot.key: snapshot for snapshot in qs}


def months_snapshots(*, region: Region, first: date, last: date) -> dict[str, list[KpiSnapshot]]:
    """Key → the region's current monthly snapshots from ``first`` to ``last`` (month starts)."""
    qs = KpiSnapshot.objects.filter(
        is_current=True,
        region=region,
        period_kind=definitions.MONTH,
        period_start__gte=first,
        period_start__lte=last,
    ).order_by("period_start")
    found: dict[str, list[KpiSnapshot]] = defaultdict(list)
    for snapshot in qs:
        found[snapshot.key].append(snapshot)
    return dict(found)


# KPI.md "Covered category"; spend.selectors holds the rule so screening reads it too.
_covered_category_q = spend_selectors.covered_category_q


def compliance_leaks(*, region: Region, year: int, depth: int = 3, limit: int = 50) -> dict:
    """Where compliance leaks: spend in covered categories that is not category-matched.

    By CPV digits (``depth``: 2 division, 3 group …) and by supplier, the largest leak
    first. ``covered`` and ``matched`` add up to the yearly compliance figure's parts.
    """
    money = spend_selectors._money
    lines = spend_selectors.spend_lines(region=region, year=year).filter(category__isnull=False)
    covered = lines.filter(_covered_category_q(region))
    totals = covered.aggregate(
        covered=money(), matched=money(filter=Q(category_matched=True)), lines=Count("pk")
    )
    leaking = Q(category_matched=False)
    by_category = (
        covered.values(key=Substr("category__code", 1, depth))
        .annotate(
            total=money(),
            matched=money(filter=~leaking),
            leak=money(filter=leaking),
            count=Count("pk", filter=leaking),
        )
        .filter(leak__gt=0)
        .order_by("-leak", "key")[:limit]
    )
    categories = list(by_category)
    labels = spend_selectors._labels(row["key"].ljust(8, "0") for row in categories)
    for row in categories:
        row["code"] = row["key"].ljust(8, "0")
        row["label"] = labels.get(row["code"], "")
        row["compliance"] = spend_selectors.share(row["matched"], row["total"])
    suppliers = list(
        covered.filter(leaking)
        .values("supplier_id")
        .annotate(supplier_name=Max("supplier_name"), leak=money(), count=Count("pk"))
        .order_by("-leak", "supplier_id")[:limit]
    )
    totals["leak"] = totals["covered"] - totals["matched"]
    totals["compliance"] = spend_selectors.share(totals["matched"], totals["covered"])
    return {"categories": categories, "suppliers": suppliers, "totals": totals}


def top_suppliers_e_order(*, region: Region, year: int, top: int = 100) -> dict:
    """The region's ``top`` suppliers by transactions in the year, with their e-order share.

    The rules of the KPI (kpi/compute.py): a transaction is a distinct (supplier id,
    invoice number), a line without an invoice number one of its own; it is an e-order
    when any of its lines was ordered by e-order; ties at the last place go to the lower
    supplier id. Excluded lines do not count.
    """
    lines = spend_selectors.spend_lines(region=region, year=year)
    has_channels = lines.exclude(order_channel="").exists()
    invoice = Case(
        When(invoice_no="", then=Concat(Value("#"), Cast("pk", CharField()))),
        default="invoice_no",
        output_field=CharField(),
    )
    in_system_channels = [LedgerLine.Channel.E_ORDER, LedgerLine.Channel.PURCHASING_SYSTEM]
    e_order = Case(
        When(order_channel=LedgerLine.Channel.E_ORDER, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    transactions = (
        lines.values("supplier_id")
        .annotate(invoice=invoice)
        .values("supplier_id", "invoice")
        .annotate(
            name=Max("supplier_name"),
            total=Sum("amount"),
            e=Max(e_order),
            in_system=Sum(
                Case(
                    When(order_channel__in=in_system_channels, then="amount"),
                    default=Value(0),
                    output_field=DecimalField(max_digits=17, decimal_places=2),
                )
            ),
        )
        .order_by()
    )
    inner, params = transactions.query.sql_with_params()
    sql = f"""
        SELECT supplier_id, MAX(name), COUNT(*), SUM(e), SUM(total), SUM(in_system)
        FROM ({inner}) tx
        GROUP BY supplier_id
        ORDER BY COUNT(*) DESC, supplier_id
        LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, top])
        fetched = cursor.fetchall()
    rows = []
    for rank, (supplier_id, name, count, e, total, in_system) in enumerate(fetched, start=1):
        total = Decimal(str(total or 0)).quantize(Decimal("0.01"))
        in_system = Decimal(str(in_system or 0)).quantize(Decimal("0.01"))
        rows.append(
            {
                "rank": rank,
                "supplier_id": supplier_id,
                "supplier_name": name or "",
                "transactions": int(count),
                "e_order": int(e or 0),
                "share": spend_selectors.share(int(e or 0), int(count)),
                "total": total,
                "in_system_share": spend_selectors.share(in_system, total),
            }
        )
    transactions_total = sum(row["transactions"] for row in rows)
    e_order_total = sum(row["e_order"] for row in rows)
    return {
        "rows": rows,
        "has_channels": has_channels,
        "transactions": transactions_total,
        "e_order": e_order_total,
        "share": spend_selectors.share(e_order_total, transactions_total),
    }
