"""The savings reports as the published status report has them, and the plan against realised.

Each report is a view model (``Report``): columns, rows, totals, a chart in the KPI pages'
chart format (static/js/kpi-charts.js) and notes; the page renders it and
``savings_report_xlsx`` writes the same rows to .xlsx. Only awarded records count (the
rules of ``tenders.savings``: a record's contract period is its own, else its case's; a
record is active in a year when its contract runs on any day of it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from rfi.models import Region
from tenders import savings
from tenders.models import SavingsPlan, TenderCase
from tenders.services import area_for_code, area_mappings

ZERO = Decimal("0.00")
MAX_YEARS = 12

MONEY = "money"
PERCENT = "percent"
TEXT = "text"

REPORTS = ("kind-area", "origin", "years", "price-reduction")


@dataclass
class Column:
    key: str
    label: str
    unit: str = MONEY


@dataclass
class Row:
    label: str
    values: dict
    url: str = ""
    group: str = ""
    cells: list = field(default_factory=list)  # (value, unit) per column, for the table


@dataclass
class Report:
    slug: str
    title: str
    description: str
    year: int
    columns: list[Column]
    rows: list[Row]
    totals: Row | None = None
    chart: dict = field(default_factory=dict)
    facts: list[tuple[str, object, str]] = field(default_factory=list)  # label, value, unit
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for row in [*self.rows, *([self.totals] if self.totals else [])]:
            row.cells = [(row.values.get(c.key), c.unit) for c in self.columns]


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _fraction(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (numerator / denominator).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _float(value) -> float | None:
    return None if value is None else float(value)


def area_of_record(record, mappings: dict[str, str] | None = None) -> str:
    """A joint case's area is the case's; a region's own contract's comes from its category."""
    if record.tender_id:
        return record.tender.area
    return area_for_code(record.category.code, mappings) if record.category_id else ""


def years_of(year: int, awarded: list[savings.ActiveSaving]) -> list[int]:
    """The years a per-year report shows: from the first contract start up to ``year``."""
    first = min((s.start.year for s in awarded), default=year)
    first = max(first, year - MAX_YEARS + 1)
    return list(range(min(first, year), year + 1))


# Savings by kind and by area ------------------------------------------------------------------


def report_kind_area(year: int) -> Report:
    active = savings.active_in(year)
    mappings = area_mappings()
    groups: list[tuple[str, str, str]] = [
        ("kind", key, str(label)) for key, label in TenderCase.Kind.choices
    ] + [("area", key, str(label)) for key, label in TenderCase.Area.choices]
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for saving in active:
        record = saving.record
        for dimension, key in (
            ("kind", record.effective_kind),
            ("area", area_of_record(record, mappings)),
        ):
            sums[(dimension, key)][0] += record.baseline_annual_cost
            sums[(dimension, key)][1] += saving.saving
    rows = []
    for dimension, key, label in groups:
        baseline, saved = sums[(dimension, key)]
        rows.append(
            Row(
                label=label,
                group=_("Kind") if dimension == "kind" else _("Area"),
                values={
                    "baseline": _money(baseline),
                    "saving": _money(saved),
                    "reduction": _fraction(saved, baseline),
                },
            )
        )
    baseline = sum((s.record.baseline_annual_cost for s in active), ZERO)
    saved = sum((s.saving for s in active), ZERO)
    totals = Row(
        _("Total"),
        {
            "baseline": _money(baseline),
            "saving": _money(saved),
            "reduction": _fraction(saved, baseline),
        },
    )
    return Report(
        slug="kind-area",
        title=_("Savings by kind and by area"),
        description=_(
            "Awarded annual savings of the contracts active in %(year)s, joint and regional, "
            "split by kind (framework agreement, one-off purchase) and by area. Each split "
            "adds up to the total."
        )
        % {"year": year},
        year=year,
        columns=[
            Column("baseline", _("Baseline annual cost")),
            Column("saving", _("Annual saving")),
            Column("reduction", _("Price reduction"), PERCENT),
        ],
        rows=rows,
        totals=totals,
        chart={
            "kind": "bar",
            "title": _("Annual savings by kind and by area, %(year)s") % {"year": year},
            "unit": "kr.",
            "labels": [r.label for r in rows],
            "series": [
                {"label": _("Annual saving"), "values": [_float(r.values["saving"]) for r in rows]}
            ],
        },
    )


# Joint against regional ---------------------------------------------------------------------


def report_origin(year: int) -> Report:
    awarded = savings.awarded_savings()
    rows = []
    for y in years_of(year, awarded):
        joint = regional = ZERO
        for saving in savings.active_in(y, awarded):
            if saving.record.is_joint:
                joint += saving.saving
            else:
                regional += saving.saving
        total = joint + regional
        rows.append(
            Row(
                str(y),
                {
                    "joint": _money(joint),
                    "regional": _money(regional),
                    "total": _money(total),
                    "joint_share": _fraction(joint, total),
                },
            )
        )
    return Report(
        slug="origin",
        title=_("Joint against regional savings"),
        description=_(
            "Awarded annual savings of the contracts active each year: from joint tenders "
            "and from the regions' own contracts."
        ),
        year=year,
        columns=[
            Column("joint", _("Joint tenders")),
            Column("regional", _("Regions' own contracts")),
            Column("total", _("Total")),
            Column("joint_share", _("Joint share"), PERCENT),
        ],
        rows=rows,
        chart={
            "kind": "bar",
            "title": _("Joint and regional annual savings by year"),
            "unit": "kr.",
            "labels": [r.label for r in rows],
            "series": [
                {"label": _("Joint tenders"), "values": [_float(r.values["joint"]) for r in rows]},
                {
                    "label": _("Regions' own contracts"),
                    "values": [_float(r.values["regional"]) for r in rows],
                },
            ],
        },
    )


# Accumulated against new ---------------------------------------------------------------------


def report_years(year: int, *, strategy_start: int | None = None) -> Report:
    """New savings per year against those accumulated (every active contract's saving).

    ``strategy_start``: the first year of the strategy in force in ``year``; the column
    "since the strategy's start" is what its target counts (the KPI annual_savings).
    """
    awarded = savings.awarded_savings()
    since = dt.date(strategy_start, 1, 1) if strategy_start else None
    rows = []
    for y in years_of(year, awarded):
        active = savings.active_in(y, awarded)
        values = {
            "new": _money(sum((s.saving for s in awarded if s.start.year == y), ZERO)),
            "accumulated": _money(sum((s.saving for s in active), ZERO)),
            "strategy": (
                _money(sum((s.saving for s in active if s.start >= since), ZERO))
                if since and y >= strategy_start
                else None
            ),
        }
        rows.append(Row(str(y), values))
    columns = [
        Column("new", _("New in the year")),
        Column("accumulated", _("Accumulated (all active contracts)")),
        Column("strategy", _("New since the strategy's start")),
    ]
    notes = [
        _(
            "New: contracts that started in the year. Accumulated: every contract active in "
            "the year, whenever it started."
        )
    ]
    if strategy_start:
        notes.append(
            _(
                "The strategy's target counts only the savings of contracts that started on or "
                "after 1 January %(year)s, its first day: what was reached before comes on top."
            )
            % {"year": strategy_start}
        )
    else:
        notes.append(_("No strategy is in force in %(year)s.") % {"year": year})
    return Report(
        slug="years",
        title=_("Accumulated against new savings"),
        description=_("Awarded annual savings per year: new in the year and accumulated."),
        year=year,
        columns=columns,
        rows=rows,
        chart={
            "kind": "line",
            "title": _("Accumulated and new annual savings by year"),
            "unit": "kr.",
            "labels": [r.label for r in rows],
            "series": [
                {"label": str(c.label), "values": [_float(r.values[c.key]) for r in rows]}
                for c in columns
            ],
        },
        notes=notes,
    )


# Price reduction per joint tender -------------------------------------------------------------


def report_price_reduction(year: int) -> Report:
    """Per joint case with awarded records active in ``year``: Σ saving ÷ Σ baseline."""
    per_case: dict[int, list[savings.ActiveSaving]] = defaultdict(list)
    for saving in savings.active_in(year):
        if saving.record.is_joint:
            per_case[saving.record.tender_id].append(saving)
    rows = []
    reductions = []
    total_baseline = total_saving = ZERO
    for rows_of_case in sorted(per_case.values(), key=lambda r: r[0].record.tender.reference):
        tender = rows_of_case[0].record.tender
        baseline = sum((s.record.baseline_annual_cost for s in rows_of_case), ZERO)
        saved = sum((s.saving for s in rows_of_case), ZERO)
        reduction = _fraction(saved, baseline)
        if reduction is not None:
            reductions.append(reduction)
        total_baseline += baseline
        total_saving += saved
        rows.append(
            Row(
                f"{tender.reference} {tender.title}",
                {
                    "regions": len(rows_of_case),
                    "baseline": _money(baseline),
                    "saving": _money(saved),
                    "reduction": reduction,
                },
                url=tender.reference,
            )
        )
    mean = (
        (sum(reductions, Decimal(0)) / len(reductions)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )
        if reductions
        else None
    )
    weighted = _fraction(total_saving, total_baseline)
    return Report(
        slug="price-reduction",
        title=_("Price reduction per joint tender"),
        description=_(
            "Per joint tender with awarded savings active in %(year)s: the saving as a share "
            "of the baseline over its regions' records. The simple mean gives each tender the "
            "same weight; the value-weighted figure is Σ saving ÷ Σ baseline."
        )
        % {"year": year},
        year=year,
        columns=[
            Column("regions", _("Regions"), TEXT),
            Column("baseline", _("Baseline annual cost")),
            Column("saving", _("Annual saving")),
            Column("reduction", _("Price reduction"), PERCENT),
        ],
        rows=rows,
        totals=Row(
            _("All joint tenders"),
            {
                "regions": sum(r.values["regions"] for r in rows),
                "baseline": _money(total_baseline),
                "saving": _money(total_saving),
                "reduction": weighted,
            },
        ),
        facts=[
            (_("Simple mean"), mean, PERCENT),
            (_("Value-weighted"), weighted, PERCENT),
            (_("Joint tenders"), len(rows), TEXT),
        ],
        chart={
            "kind": "bar",
            "title": _("Price reduction per joint tender, %(year)s") % {"year": year},
            "unit": "%",
            "labels": [r.url for r in rows],
            "series": [
                {
                    "label": _("Price reduction"),
                    "values": [
                        None
                        if r.values["reduction"] is None
                        else float(r.values["reduction"] * 100)
                        for r in rows
                    ],
                }
            ],
        },
    )


def report_for(slug: str, year: int, *, strategy_start: int | None = None) -> Report:
    if slug == "kind-area":
        return report_kind_area(year)
    if slug == "origin":
        return report_origin(year)
    if slug == "years":
        return report_years(year, strategy_start=strategy_start)
    return report_price_reduction(year)


# Plan against realised --------------------------------------------------------------------


@dataclass
class PlanRow:
    region: Region
    plan: SavingsPlan | None
    active: Decimal
    realised: Decimal | None  # None: no compliance figure for the year

    @property
    def difference(self) -> Decimal | None:
        if self.plan is None or self.realised is None:
            return None
        return self.realised - self.plan.forecast


def plan_against_realised(year: int) -> list[PlanRow]:
    """Each active region's plan for ``year`` beside its realised savings (the method)."""
    report = savings.savings_report(year)
    plans = {p.region_id: p for p in SavingsPlan.objects.filter(year=year).select_related("owner")}
    out = []
    for region in Region.objects.filter(active=True).order_by("code"):
        figures = report["per_region"].get(region.code, {"active": ZERO, "realised": ZERO})
        out.append(
            PlanRow(
                region=region,
                plan=plans.get(region.pk),
                active=figures["active"],
                realised=figures["realised"],
            )
        )
    return out


# Realised per record ----------------------------------------------------------------------------


@dataclass
class Realisation:
    year: int
    compliance: Decimal
    days: int
    amount: Decimal


def realisation_of(
    record, *, today: dt.date, compliance_cache: dict[int, dict[int, Decimal]] | None = None
) -> Realisation | None:
    """The record's realised saving in the latest year (up to today's) with a compliance figure.

    ``compliance_cache`` (year → region id → compliance), shared by the caller across
    records, reads each year's compliance once.
    """
    cache = {} if compliance_cache is None else compliance_cache
    if record.stage not in record.COUNTED_STAGES:
        return None
    start, end = savings._period(record)
    if start is None:
        return None
    saving = savings.ActiveSaving(record, start, end)
    for year in range(today.year, start.year - 1, -1):
        if saving.days_in(year) <= 0:
            continue
        if year not in cache:
            cache[year] = savings.compliance_by_region(year)
        compliance = cache[year].get(record.region_id)
        if compliance is None:
            continue
        amount = savings.realised(saving, year, compliance).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        return Realisation(year, compliance, saving.days_in(year), amount)
    return None
