"""Reads of spend shared by the analysis pages, their exports and the API.

Only lines of current batches count, and only addressable ones (not excluded).
Every figure is an aggregation in the database (values/annotate/Sum); Python only
shapes the handful of result rows (per category, supplier or month), never lines.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import django_filters
from django.db.models import (
    Count,
    DecimalField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear, Substr
from django.utils.translation import gettext_lazy as _

from rfi import permissions
from rfi.cpv import significant_prefix
from rfi.models import Category, Region
from spend.models import ColumnMapping, ExclusionRule, ImportBatch, LedgerLine, MappingRule
from suppliers.models import Contract

ZERO = Decimal("0.00")
SMALL_INVOICE_LIMIT = Decimal("10000")
PARETO_SUPPLIER_SHARES = (10, 20, 50, 80)
PARETO_SPEND_SHARES = (50, 80, 90, 95)
# Drill-down depths by number of CPV digits: division, group, class, category, finer.
CPV_DIVISION_DIGITS = 2
CPV_MAX_DIGITS = 8
OFF_CONTRACT_BASES = ("supplier", "category")


def _money(expression="amount", **kwargs):
    output = DecimalField(max_digits=17, decimal_places=2)
    return Coalesce(Sum(expression, **kwargs), Value(ZERO), output_field=output)


def share(part, whole) -> Decimal | None:
    """part ÷ whole as a percentage; None when the whole is zero (not available)."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole) * 100).quantize(Decimal("0.1"))


# The lines that count ------------------------------------------------------------------------


def current_batches(*, region: Region | None = None) -> QuerySet[ImportBatch]:
    batches = ImportBatch.objects.filter(is_current=True)
    if region is not None:
        batches = batches.filter(region=region)
    return batches


def current_batches_overlapping(*, region_id: int, start: dt.date, end: dt.date) -> QuerySet:
    """The region's current batches whose period overlaps ``start``–``end`` (their lines lie
    inside their periods): the ones a switch-in for that period touches."""
    return ImportBatch.objects.filter(
        region_id=region_id, is_current=True, period_start__lte=end, period_end__gte=start
    )


def spend_lines(
    *, region: Region | None = None, year: int | None = None, include_excluded: bool = False
) -> QuerySet[LedgerLine]:
    """Addressable lines of current batches, for a region (None: all) and a year."""
    lines = LedgerLine.objects.filter(batch__in=current_batches(region=region).values("pk"))
    if region is not None:
        lines = lines.filter(region=region)
    if not include_excluded:
        lines = lines.filter(is_excluded=False)
    if year is not None:
        lines = lines.filter(
            posting_date__gte=dt.date(year, 1, 1), posting_date__lt=dt.date(year + 1, 1, 1)
        )
    return lines


def spend_years(*, region: Region | None = None) -> list[int]:
    """The years the region's current batches cover, newest first."""
    batches = current_batches(region=region)
    span = batches.aggregate(first=Min("period_start"), last=Max("period_end"))
    if (
        span["first"] is None
        or span["last"] is None
        or batches.filter(Q(period_start__isnull=True) | Q(period_end__isnull=True)).exists()
    ):
        span = spend_lines(region=region, include_excluded=True).aggregate(
            first=Min("posting_date"), last=Max("posting_date")
        )
    if span["first"] is None:
        return []
    return list(range(span["last"].year, span["first"].year - 1, -1))


class LedgerLineFilter(django_filters.FilterSet):
    """Filters of the ledger-line API (the rights filter the regions before this runs)."""

    region = django_filters.CharFilter(field_name="region__code", label=_("Region code"))
    year = django_filters.NumberFilter(
        method="filter_year", label=_("Year"), min_value=1, max_value=9998
    )
    month = django_filters.NumberFilter(
        method="filter_month", label=_("Month"), min_value=1, max_value=12
    )
    supplier_id = django_filters.CharFilter(label=_("Supplier id"))
    account = django_filters.CharFilter(label=_("Account"))
    category = django_filters.CharFilter(method="filter_category", label=_("CPV prefix"))
    unmapped = django_filters.BooleanFilter(
        field_name="category", lookup_expr="isnull", label=_("Unmapped")
    )
    supplier_matched = django_filters.BooleanFilter(label=_("Supplier-matched"))
    category_matched = django_filters.BooleanFilter(label=_("Category-matched"))
    is_excluded = django_filters.BooleanFilter(label=_("Excluded"))

    class Meta:
        model = LedgerLine
        fields = [
            "region",
            "year",
            "month",
            "supplier_id",
            "account",
            "category",
            "unmapped",
            "supplier_matched",
            "category_matched",
            "is_excluded",
        ]

    def filter_year(self, queryset, name, value):
        year = int(value)
        return queryset.filter(
            posting_date__gte=dt.date(year, 1, 1), posting_date__lt=dt.date(year + 1, 1, 1)
        )

    def filter_month(self, queryset, name, value):
        return queryset.filter(posting_date__month=int(value))

    def filter_category(self, queryset, name, value):
        prefix = value.strip()
        if not prefix.isdigit():
            return queryset.none()
        return queryset.filter(
            category_id__in=Category.objects.filter(code__startswith=prefix).values("pk")
        )


def ledger_lines(*, region_ids: list[int] | None) -> QuerySet[LedgerLine]:
    """Lines of current batches in the given regions (None: every region), excluded ones too."""
    lines = LedgerLine.objects.filter(
        batch__in=ImportBatch.objects.filter(is_current=True).values("pk")
    )
    if region_ids is not None:
        lines = lines.filter(region_id__in=region_ids)
    return lines.select_related("region", "category").order_by("pk")


def covered_category_q(region: Region) -> Q:
    """Lines in a category the region had, on the posting date, a contract covering.

    KPI.md "Covered category", with spend.matching's category rule (the contract's CPV code
    without trailing zeros, the division kept, is a prefix of the line's code). Built from
    the region's contracts (tens to hundreds) as one condition per covering prefix and
    merged date ranges, so the lines are read once; a correlated EXISTS per line took
    seconds per 100,000 lines. The compliance drill-down (kpi) uses it; the UFO screening
    (spend.screening) the same rule for every region at once, covered_category_by_region_q.
    """
    contracts = Contract.objects.filter(region=region, category__isnull=False).values_list(
        "category__code", "start_date", "end_date", "extended_until"
    )
    return _covering_contracts_q(contracts)


def covered_category_by_region_q(regions: Iterable[Region]) -> Q:
    """``covered_category_q`` of each region, for lines of all of them: one read of contracts."""
    contracts: dict[int, list[tuple]] = defaultdict(list)
    rows = Contract.objects.filter(region__in=regions, category__isnull=False).values_list(
        "region_id", "category__code", "start_date", "end_date", "extended_until"
    )
    for region_id, *contract in rows:
        contracts[region_id].append(contract)
    condition = Q(pk__in=[])
    for region_id, region_contracts in sorted(contracts.items()):
        condition |= Q(region_id=region_id) & _covering_contracts_q(region_contracts)
    return condition


def _covering_contracts_q(contracts: Iterable[tuple]) -> Q:
    """Lines whose code and posting date one of the contracts (code, start, end, extended) covers."""
    ranges: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for code, start, end, extended in contracts:
        ranges[significant_prefix(code)].append((start, extended or end))
    condition = Q(pk__in=[])
    for prefix, spans in sorted(ranges.items()):
        merged: list[list[dt.date]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        dates = Q(pk__in=[])
        for start, end in merged:
            dates |= Q(posting_date__gte=start, posting_date__lte=end)
        condition |= Q(category__code__startswith=prefix) & dates
    return condition


# Totals ---------------------------------------------------------------------------------------


def spend_totals(lines: QuerySet[LedgerLine]) -> dict:
    """Addressable spend, its classified/matched parts and the shares (one query)."""
    totals = lines.aggregate(
        total=_money(),
        count=Count("pk"),
        suppliers=Count("supplier_id", distinct=True),
        unclassified=_money(filter=Q(category__isnull=True)),
        supplier_matched_total=_money(filter=Q(supplier_matched=True)),
        category_matched_total=_money(filter=Q(category_matched=True)),
        off_contract=_money(filter=Q(supplier_matched=False)),
    )
    total = totals["total"]
    totals["unclassified_share"] = share(totals["unclassified"], total)
    totals["supplier_matched_share"] = share(totals["supplier_matched_total"], total)
    totals["category_matched_share"] = share(totals["category_matched_total"], total)
    totals["off_contract_share"] = share(totals["off_contract"], total)
    return totals


def excluded_total(*, region: Region | None, year: int | None) -> Decimal:
    lines = spend_lines(region=region, year=year, include_excluded=True).filter(is_excluded=True)
    return lines.aggregate(total=_money())["total"]


# By category ------------------------------------------------------------------------------------


@dataclass
class CategoryRow:
    key: str | None  # the CPV digits at this depth; None: unclassified
    total: Decimal
    count: int
    supplier_matched_total: Decimal
    category_matched_total: Decimal
    share: Decimal | None = None
    label: str = ""
    unspecified: bool = False  # lines coded at the parent level, not finer
    can_drill: bool = False

    @property
    def code(self) -> str:
        """The 8-digit CPV code of this node (zero-padded), '' for unclassified."""
        return self.key.ljust(CPV_MAX_DIGITS, "0") if self.key else ""


def normalise_prefix(prefix: str | None) -> str:
    """A drill-down prefix: 2 to 7 CPV digits ('' for the top)."""
    value = (prefix or "").strip()
    if not value.isdigit() or not value.isascii():
        return ""
    value = value[: CPV_MAX_DIGITS - 1]
    return value if len(value) >= CPV_DIVISION_DIGITS else ""


def _labels(codes) -> dict[str, str]:
    return {c.code: c.label for c in Category.objects.filter(code__in=set(codes))}


def category_path(prefix: str) -> list[tuple[str, str]]:
    """The breadcrumbs of a drill-down prefix: (digits, label) from the division down."""
    steps = [prefix[:n] for n in range(CPV_DIVISION_DIGITS, len(prefix) + 1)]
    labels = _labels(step.ljust(CPV_MAX_DIGITS, "0") for step in steps)
    return [
        (step, labels.get(step.ljust(CPV_MAX_DIGITS, "0"), ""))
        for step in steps
        if step.ljust(CPV_MAX_DIGITS, "0") in labels or step == prefix
    ]


def spend_by_category(
    lines: QuerySet[LedgerLine],
    *,
    prefix: str = "",
    depth: int | None = None,
    limit: int | None = None,
) -> list[CategoryRow]:
    """Spend one level below ``prefix`` in the CPV tree (divisions at the top).

    At the top the unclassified lines are a row of their own; below, lines coded at
    the parent level itself show as "not further specified".
    """
    depth = depth or (len(prefix) + 1 if prefix else CPV_DIVISION_DIGITS)
    if prefix:
        lines = lines.filter(
            category_id__in=Category.objects.filter(code__startswith=prefix).values("pk")
        )
    grouped = (
        lines.values(key=Substr("category__code", 1, depth))
        .annotate(
            total=_money(),
            count=Count("pk"),
            supplier_matched_total=_money(filter=Q(supplier_matched=True)),
            category_matched_total=_money(filter=Q(category_matched=True)),
        )
        .order_by("-total", "key")
    )
    if limit:
        grouped = grouped[:limit]
    rows = [CategoryRow(**values) for values in grouped]
    grand_total = sum((row.total for row in rows), ZERO) if not limit else None
    labels = _labels(row.code for row in rows if row.key)
    for row in rows:
        row.share = share(row.total, grand_total) if grand_total is not None else None
        if row.key is None:
            continue
        row.unspecified = len(row.key) > CPV_DIVISION_DIGITS and row.key.endswith("0")
        row.label = labels.get(row.code, "")
        row.can_drill = not row.unspecified and len(row.key) < CPV_MAX_DIGITS
    return rows


# By supplier -------------------------------------------------------------------------------------


def spend_by_supplier(lines: QuerySet[LedgerLine], *, limit: int = 50) -> list[dict]:
    """The suppliers with the most spend, with their on-contract parts."""
    rows = (
        lines.values("supplier_id")
        .annotate(
            supplier_name=Max("supplier_name"),
            total=_money(),
            count=Count("pk"),
            supplier_matched_total=_money(filter=Q(supplier_matched=True)),
            category_matched_total=_money(filter=Q(category_matched=True)),
        )
        .order_by("-total", "supplier_id")
    )
    return list(rows[:limit])


@dataclass
class Pareto:
    suppliers: int
    total: Decimal
    # (share of suppliers %, share of spend %): the top X % of suppliers carry Y % of spend.
    by_supplier_share: list[tuple[int, Decimal | None]] = field(default_factory=list)
    # (share of spend %, share of suppliers %): Y % of spend needs the top X % of suppliers.
    by_spend_share: list[tuple[int, Decimal | None]] = field(default_factory=list)
    # The curve, at most ~100 points, both axes in % (0–100).
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def svg_points(self) -> str:
        """The curve in a 0–100 SVG box with the y axis pointing up."""
        return " ".join(f"{x:.1f},{100 - y:.1f}" for x, y in self.points)


def pareto(lines: QuerySet[LedgerLine]) -> Pareto:
    """Share of suppliers vs share of spend, suppliers ranked by spend.

    One row per supplier comes back from the database (the per-supplier sums);
    credit notes count, so a supplier with a negative balance sits at the end.
    """
    totals = [
        t
        for t in lines.values("supplier_id")
        .annotate(total=_money())
        .order_by("-total")
        .values_list("total", flat=True)
    ]
    grand = sum(totals, ZERO)
    result = Pareto(suppliers=len(totals), total=grand)
    if not totals or grand <= 0:
        result.by_supplier_share = [(p, None) for p in PARETO_SUPPLIER_SHARES]
        result.by_spend_share = [(p, None) for p in PARETO_SPEND_SHARES]
        return result
    cumulative = []
    running = ZERO
    for total in totals:
        running += total
        cumulative.append(running)
    n = len(totals)
    for pct in PARETO_SUPPLIER_SHARES:
        top = max(1, -(-n * pct // 100))  # ceil, at least one supplier
        result.by_supplier_share.append((pct, share(cumulative[top - 1], grand)))
    for pct in PARETO_SPEND_SHARES:
        target = grand * pct / 100
        needed = next((i + 1 for i, c in enumerate(cumulative) if c >= target), n)
        result.by_spend_share.append((pct, share(needed, n)))
    step = max(1, n // 100)
    indexes = sorted(set(range(step - 1, n, step)) | {n - 1})
    result.points = [(0.0, 0.0)] + [
        ((i + 1) / n * 100, float(min(max(cumulative[i] / grand * 100, 0), 100))) for i in indexes
    ]
    return result


# By month -----------------------------------------------------------------------------------------


def spend_by_month(lines: QuerySet[LedgerLine]) -> list[dict]:
    """Spend per calendar month of a year's lines (months without lines are left out)."""
    rows = (
        lines.values(month=ExtractMonth("posting_date"))
        .annotate(
            total=_money(),
            count=Count("pk"),
            supplier_matched_total=_money(filter=Q(supplier_matched=True)),
            category_matched_total=_money(filter=Q(category_matched=True)),
        )
        .order_by("month")
    )
    result = list(rows)
    for row in result:
        row["supplier_matched_share"] = share(row["supplier_matched_total"], row["total"])
        row["category_matched_share"] = share(row["category_matched_total"], row["total"])
    return result


# Off contract --------------------------------------------------------------------------------------


def off_contract_lines(lines: QuerySet[LedgerLine], *, basis: str = "supplier"):
    """Lines without an active contract: by supplier (default) or by covering category."""
    if basis == "category":
        return lines.filter(category_matched=False)
    return lines.filter(supplier_matched=False)


def off_contract_by_supplier(
    lines: QuerySet[LedgerLine], *, basis: str = "supplier", limit: int = 50
):
    rows = (
        off_contract_lines(lines, basis=basis)
        .values("supplier_id")
        .annotate(
            supplier_name=Max("supplier_name"),
            total=_money(),
            count=Count("pk"),
            invoices=Count("invoice_no", distinct=True),
        )
        .order_by("-total", "supplier_id")
    )
    return list(rows[:limit])


def off_contract_by_category(
    lines: QuerySet[LedgerLine], *, basis: str = "supplier", depth: int = 3, limit: int = 50
) -> list[CategoryRow]:
    """Off-contract spend by CPV group (or another depth): the leads for new tenders."""
    return spend_by_category(off_contract_lines(lines, basis=basis), depth=depth, limit=limit)


# Small invoices --------------------------------------------------------------------------------------

SIZE_BANDS: tuple[tuple[Decimal | None, Decimal | None], ...] = (
    (None, Decimal("0")),  # credit balance or zero
    (Decimal("0"), Decimal("1000")),
    (Decimal("1000"), SMALL_INVOICE_LIMIT),
    (SMALL_INVOICE_LIMIT, Decimal("100000")),
    (Decimal("100000"), Decimal("1000000")),
    (Decimal("1000000"), None),
)


def _band_q(low, high) -> Q:
    """[low, high) of a transaction's total; the first positive band starts above zero."""
    if low is None:
        return Q(total__lte=high)
    q = Q(total__gt=low) if low == 0 else Q(total__gte=low)
    if high is not None:
        q &= Q(total__lt=high)
    return q


def small_invoices(lines: QuerySet[LedgerLine]) -> dict:
    """Transactions (region, supplier id, invoice no) by size; those under 10,000 DKK.

    A transaction's amount is the sum of its lines. Shares are of the transactions with
    a positive total (a credit-note balance is not a purchase).
    """
    transactions = lines.values("region_id", "supplier_id", "invoice_no").annotate(
        total=Sum("amount")
    )
    bands = {}
    for index, (low, high) in enumerate(SIZE_BANDS):
        q = _band_q(low, high)
        bands[f"n{index}"] = Count("total", filter=q)
        bands[f"s{index}"] = _money("total", filter=q)
    small = Q(total__gt=0, total__lt=SMALL_INVOICE_LIMIT)
    positive = Q(total__gt=0)
    figures = transactions.aggregate(
        transactions=Count("total"),
        positive=Count("total", filter=positive),
        positive_spend=_money("total", filter=positive),
        small=Count("total", filter=small),
        small_spend=_money("total", filter=small),
        **bands,
    )
    rows = []
    for index, (low, high) in enumerate(SIZE_BANDS):
        rows.append(
            {
                "low": low,
                "high": high,
                "count": figures[f"n{index}"],
                "spend": figures[f"s{index}"],
                "count_share": share(figures[f"n{index}"], figures["transactions"]),
            }
        )
    return {
        "transactions": figures["transactions"],
        "positive": figures["positive"],
        "positive_spend": figures["positive_spend"],
        "small": figures["small"],
        "small_spend": figures["small_spend"],
        "small_share": share(figures["small"], figures["positive"]),
        "small_spend_share": share(figures["small_spend"], figures["positive_spend"]),
        "limit": SMALL_INVOICE_LIMIT,
        "bands": rows,
    }


# Unmapped ---------------------------------------------------------------------------------------------


def unmapped_spend(lines: QuerySet[LedgerLine], *, limit: int = 200) -> list[dict]:
    """Unmapped addressable spend by (account, cost centre, supplier): what a rule should cover."""
    rows = (
        lines.filter(category__isnull=True)
        .values("region_id", "account", "cost_centre", "supplier_id")
        .annotate(
            supplier_name=Max("supplier_name"),
            total=_money(),
            count=Count("pk"),
        )
        .order_by("-total", "account", "cost_centre", "supplier_id")
    )
    return list(rows[:limit])


# Rules ------------------------------------------------------------------------------------------------


def mapping_rules(*, region_ids: list[int] | None) -> QuerySet[MappingRule]:
    """Collaboration-wide rules and those of the given regions (None: every region)."""
    rules = MappingRule.objects.select_related("region", "category")
    if region_ids is not None:
        rules = rules.filter(Q(region__isnull=True) | Q(region_id__in=region_ids))
    return rules.order_by("priority", "region__code", "pk")


def exclusion_rules(*, region_ids: list[int] | None) -> QuerySet[ExclusionRule]:
    rules = ExclusionRule.objects.select_related("region")
    if region_ids is not None:
        rules = rules.filter(Q(region__isnull=True) | Q(region_id__in=region_ids))
    return rules.order_by("region__code", "kind", "account_from", "category_prefix", "pk")


def column_mappings(*, region_ids: list[int] | None) -> QuerySet[ColumnMapping]:
    mappings = ColumnMapping.objects.select_related("region")
    if region_ids is not None:
        mappings = mappings.filter(region_id__in=region_ids)
    return mappings.order_by("region__code", "canonical", "source_header")


def ledger_batches_visible_to(user):
    """The import batches of the regions whose lines the user may see (a read, for the
    upload pages and the API)."""
    batches = ImportBatch.objects.select_related("region", "uploaded_by")
    if permissions.is_secretariat(user):
        return batches
    regions = permissions.regions_where(user, permissions.can_view_region_spend)
    return batches.filter(region_id__in=[region.pk for region in regions])


def stored_lines_by_month(
    *, region_id: int, start: dt.date, end: dt.date
) -> dict[tuple[int, int], tuple[int, Decimal]]:
    """The region's current lines from ``start`` to ``end`` per (year, month): how many and
    their amount (excluded lines too: an import deletes them all). The batches first, so
    that the lines are read by their batch's index and a region without any stored lines in
    the period costs no scan of the line table (a join on is_current scanned every line)."""
    batch_ids = list(
        current_batches_overlapping(region_id=region_id, start=start, end=end).values_list(
            "pk", flat=True
        )
    )
    if not batch_ids:
        return {}
    rows = (
        LedgerLine.objects.filter(
            batch_id__in=batch_ids,
            posting_date__gte=start,
            posting_date__lte=end,
        )
        .annotate(year=ExtractYear("posting_date"), month=ExtractMonth("posting_date"))
        .values("year", "month")
        .annotate(lines=Count("pk"), amount=Sum("amount"))
        .order_by()
    )
    cent = Decimal("0.01")
    return {
        (row["year"], row["month"]): (row["lines"], Decimal(row["amount"] or ZERO).quantize(cent))
        for row in rows
    }
