"""The KPI dashboards' presenter: from stored snapshots to what a page or the export shows.

One view model per page: ``RegionDashboard`` (the chief's dashboard of one region),
``CollaborationDashboard``, ``MonthlyReport`` and ``DrillDown`` (compliance leaks, the
top-100 suppliers' e-orders). Each holds its scope, the formatted cards with their trends,
the regions side by side, the drill-down links and the page's own links. kpi/views.py turns
a request into one call here and renders ``model.context()``; kpi/excel.py writes the same
models into a workbook. Figures come from stored snapshots only (kpi.selectors); the two
drill-downs are the only reads of ledger lines. Rights are asked of rfi.permissions.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from kpi import definitions as d
from kpi import selectors
from kpi import services as kpi_services
from kpi.forms import ActionPlanFilterForm, ActivityUpdateForm, DashboardForm
from kpi.models import StrategyActivity
from rfi import permissions
from rfi.forms import form_errors
from rfi.models import Region
from rfi.templatetags.rfi_format import money
from tenders import selectors as tender_selectors

DEFAULT_COMPARE = "contract_coverage_goods"
MONTHS = range(1, 13)


class ViewModel:
    """A page's data; ``context()`` gives the template its fields by name (not deep-copied)."""

    def context(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _year_or_latest(year: int | None, years: list[int]) -> int:
    return year or (years[0] if years else timezone.localdate().year)


# Formatting ----------------------------------------------------------------------------------


def _rounded(value, places: int) -> Decimal:
    # number_format cuts decimals off; round half up first (93.88 → 93.9, not 93.8).
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt(value: Decimal | None, unit: str) -> str:
    """A KPI value as people read it: 82,3 %, 1.234.567 kr., 12, 3,6."""
    if value is None:
        return "–"
    if unit == d.RATIO:
        return f"{formats.number_format(_rounded(Decimal(value) * 100, 1), decimal_pos=1)} %"
    if unit == d.DKK:
        return money(_rounded(value, 0))
    if unit == d.COUNT:
        return formats.number_format(_rounded(value, 0), decimal_pos=0, force_grouping=True)
    return formats.number_format(_rounded(value, 1), decimal_pos=1)


def fmt_change(delta: Decimal | None, unit: str) -> str:
    if delta is None:
        return ""
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    size = abs(delta)
    if unit == d.RATIO:
        points = formats.number_format(_rounded(size * 100, 1), decimal_pos=1)
        return _("%(sign)s%(points)s percentage points") % {"sign": sign, "points": points}
    return f"{sign}{fmt(size, unit)}"


def chart_value(value: Decimal | None, unit: str) -> float | None:
    if value is None:
        return None
    return round(float(value) * 100, 2) if unit == d.RATIO else round(float(value), 2)


def chart_unit(unit: str) -> str:
    return {d.RATIO: "%", d.DKK: "kr."}.get(unit, "")


def reason_text(snapshot) -> str:
    """The not-available reason in the active language (stored in English as a fallback)."""
    if snapshot is None:
        return _("Not computed yet.")
    code = (snapshot.detail or {}).get("reason_code")
    template = d.REASONS.get(code) if code else None
    if template is not None:
        try:
            return str(template) % (snapshot.detail.get("reason_params") or {})
        except (KeyError, TypeError, ValueError):
            pass
    return snapshot.reason or _("No reason recorded.")


def target_text(target, unit: str) -> str:
    """A strategy target as people read it: "≥ 80,0 %" (empty without a target)."""
    if target is None:
        return ""
    return f"{target.get_comparison_display()} {fmt(target.value, unit)}"


def month_label(month: int) -> str:
    return _month_labels(translation.get_language())[month - 1]


@functools.cache
def _month_labels(language: str | None) -> tuple[str, ...]:
    """The twelve short month names in a language (asked for hundreds of times a page)."""
    return tuple(formats.date_format(dt.date(2000, m, 1), "M") for m in range(1, 13))


# Scope: which region and year ---------------------------------------------------------------


@dataclass
class Scope:
    region: Region
    year: int
    years: list[int]
    regions: list[Region]
    compare: str
    form: DashboardForm
    errors: list[str] = field(default_factory=list)

    def query(self, **extra) -> str:
        params = {"region": self.region.code, "year": self.year}
        params.update({k: v for k, v in extra.items() if v not in (None, "")})
        return urlencode(params)


def _viewable_regions(user) -> list[Region]:
    return permissions.regions_where(user, permissions.can_view_region_kpis)


def _default_region(user, regions: list[Region]) -> Region:
    own = [region for region in regions if permissions.roles_in(user, region)]
    if own:
        return own[0]
    if regions:
        return regions[0]
    raise PermissionDenied


def dashboard_scope(user, params, form_class=DashboardForm) -> Scope:
    """The region, year and compared KPI asked for in ``params`` (a query dict).

    A bad value is defaulted and reported in ``Scope.errors``. A region the user may not
    see is refused (403), an unknown one is not found (404).
    """
    regions = _viewable_regions(user)
    code = (params.get("region") or "").strip()
    if code and code not in {region.code for region in regions}:
        if not Region.objects.filter(code=code).exists():
            raise Http404
        raise PermissionDenied
    form = form_class(
        params,
        region_choices=[(region.code, f"{region.code} – {region.name}") for region in regions],
    )
    form.is_valid()
    data = form.cleaned_data
    region = next((r for r in regions if r.code == data.get("region")), None)
    region = region or _default_region(user, regions)
    years = selectors.years_available(region=region)
    return Scope(
        region=region,
        year=_year_or_latest(data.get("year"), years),
        years=years,
        regions=regions,
        compare=data.get("compare") or DEFAULT_COMPARE,
        form=form,
        errors=form_errors(form),
    )


# Cards and their trends ---------------------------------------------------------------------


@dataclass
class Card:
    """One KPI for one region (or the collaboration) and one year, formatted for the page."""

    key: str
    label: str
    description: str
    unit: str
    available: bool
    value: Decimal | None
    value_text: str
    target_text: str
    target_value: Decimal | None
    comparison: str
    status: str  # on, off, none (no target), na (not available)
    status_text: str
    change_text: str
    change_hint: str
    reason: str
    links: list[tuple[str, str]] = field(default_factory=list)
    year_chart: str = ""
    month_chart: str = ""
    year_rows: list[tuple[str, str]] = field(default_factory=list)
    month_rows: list[tuple[str, str, str]] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)
    snapshot: object = None
    change: Decimal | None = None

    @property
    def status_icon(self) -> str:
        return {"on": "✓", "off": "✗", "na": "?"}.get(self.status, "–")


def no_strategy_text(year: int) -> str:
    """A year outside every strategy: figures, but no target and no verdict."""
    return _("No strategy for %(year)s") % {"year": year}


def _status(card: selectors.KpiCard) -> tuple[str, str]:
    if not card.available:
        return "na", _("Not available")
    if card.strategy is None:
        return "none", no_strategy_text(card.year)
    if card.target is None:
        return "none", _("No target")
    if card.on_track:
        return "on", _("On track")
    return "off", _("Off track")


def _change_hint(card: selectors.KpiCard) -> str:
    delta = card.change
    if delta is None or delta == 0:
        return ""
    better = (delta > 0) == card.definition.higher_is_better
    return _("better") if better else _("worse")


def make_card(card: selectors.KpiCard) -> Card:
    unit = card.definition.unit
    status, status_text = _status(card)
    target = card.target
    change_text = ""
    if card.change is not None:
        change_text = _("%(change)s from %(year)s") % {
            "change": fmt_change(card.change, unit),
            "year": card.year - 1,
        }
    elif card.available:
        change_text = _("No figure for %(year)s to compare with") % {"year": card.year - 1}
    return Card(
        key=card.key,
        label=str(card.definition.label),
        description=str(card.definition.description),
        unit=unit,
        available=card.available,
        value=card.value,
        value_text=fmt(card.value, unit) if card.available else "",
        target_text=target_text(target, unit),
        target_value=target.value if target else None,
        comparison=target.comparison if target else "",
        status=status,
        status_text=status_text,
        change_text=change_text,
        change_hint=_change_hint(card),
        reason="" if card.available else reason_text(card.snapshot),
        snapshot=card.snapshot,
        change=card.change,
    )


def _target_series(card: Card, count: int) -> list[dict]:
    if card.target_value is None:
        return []
    value = chart_value(card.target_value, card.unit)
    label = _("Target %(target)s") % {"target": card.target_text}
    return [{"label": label, "values": [value] * count, "target": True}]


def add_trends(card: Card, snapshots: list, year: int, charts: dict, prefix: str) -> None:
    """Attach a chart over the years and one over the months (this year and last)."""
    unit = card.unit
    yearly = [s for s in snapshots if s.period_kind == d.YEAR]
    monthly = {
        (s.period_start.year, s.period_start.month): s
        for s in snapshots
        if s.period_kind == d.MONTH
    }
    card.year_rows = [
        (s.period_label, fmt(s.value, unit) if s.available else _("not available")) for s in yearly
    ]
    if yearly:
        card.year_chart = f"{prefix}-{card.key}-years"
        charts[card.year_chart] = {
            "kind": "line",
            "title": _("%(kpi)s by year") % {"kpi": card.label},
            "unit": chart_unit(unit),
            "labels": [s.period_label for s in yearly],
            "series": [
                {
                    "label": card.label,
                    "values": [chart_value(s.value, unit) for s in yearly],
                    "target": False,
                },
                *_target_series(card, len(yearly)),
            ],
        }
    if any(y in (year, year - 1) for y, _m in monthly):

        def values(y: int) -> list[float | None]:
            return [
                chart_value(monthly[(y, m)].value, unit) if (y, m) in monthly else None
                for m in MONTHS
            ]

        card.month_chart = f"{prefix}-{card.key}-months"
        charts[card.month_chart] = {
            "kind": "line",
            "title": _("%(kpi)s by month") % {"kpi": card.label},
            "unit": chart_unit(unit),
            "labels": [month_label(m) for m in MONTHS],
            "series": [
                {"label": str(year), "values": values(year), "target": False},
                {"label": str(year - 1), "values": values(year - 1), "target": False},
                *_target_series(card, 12),
            ],
        }

        def cell(y: int, m: int) -> str:
            snapshot = monthly.get((y, m))
            if snapshot is None:
                return "–"
            return fmt(snapshot.value, unit) if snapshot.available else _("not available")

        card.month_rows = [(month_label(m), cell(year, m), cell(year - 1, m)) for m in MONTHS]


# Drill-down links ---------------------------------------------------------------------------


def _spend_url(name: str, region: Region, year: int, **extra) -> str:
    return f"{reverse(name)}?{urlencode({'region': region.code, 'year': year, **extra})}"


def region_links(user, region: Region, year: int) -> dict[str, list[tuple[str, str]]]:
    """Key → (label, url) of what the figure is made of; none where the user may not look."""
    if not permissions.can_view_region_spend(user, region):
        return {}
    off_supplier = _spend_url("spend:off_contract", region, year, basis="supplier")
    off_category = _spend_url("spend:off_contract", region, year, basis="category")
    by_category = _spend_url("spend:index", region, year)
    compliance = f"{reverse('kpi:compliance')}?{urlencode({'region': region.code, 'year': year})}"
    orders = f"{reverse('kpi:digital_orders')}?{urlencode({'region': region.code, 'year': year})}"
    coverage = [
        (_("Off-contract spend by category and supplier"), off_supplier),
        (_("Spend by category with the on-contract part"), by_category),
    ]
    loyalty = [
        (_("Spend without a contract covering its category"), off_category),
        (_("Spend by category with the on-contract part"), by_category),
    ]
    return {
        "addressable_spend": [(_("Spend by category"), by_category)],
        "contract_coverage_goods": coverage,
        "contract_coverage_services": coverage,
        "contract_loyalty_goods": loyalty,
        "contract_loyalty_services": loyalty,
        "compliance": [(_("The leaking categories"), compliance)],
        "spot_purchases": [
            (_("Off-contract spend by supplier"), off_supplier),
            (_("Transactions by size"), _spend_url("spend:small_invoices", region, year)),
        ],
        "spot_purchase_reduction": [(_("Off-contract spend by supplier"), off_supplier)],
        "digital_order_share_top100": [(_("The 100 largest suppliers' e-orders"), orders)],
        "purchasing_system_share_goods": [
            (_("Ordering channels of the largest suppliers"), orders)
        ],
        "unclassified_share": [(_("Unmapped spend"), _spend_url("spend:unmapped", region, year))],
    }


def collaboration_links(year: int) -> dict[str, list[tuple[str, str]]]:
    savings = reverse("tenders:savings_overview")
    return {
        "joint_agreement_spend": [
            (_("Joint contracts"), f"{reverse('suppliers:index')}?joint=true")
        ],
        "avg_price_reduction_joint": [
            (_("The savings records"), savings),
            (
                _("Price reduction per joint tender"),
                f"{reverse('tenders:savings_report', args=['price-reduction'])}?year={year}",
            ),
        ],
        "annual_savings": [
            (_("The savings records"), savings),
            (
                _("Accumulated against new savings"),
                f"{reverse('tenders:savings_report', args=['years'])}?year={year}",
            ),
        ],
        "joint_service_tenders": [
            (_("The joint tender plan"), f"{reverse('tenders:index')}?year={year}")
        ],
        "frameworks_with_options_share": [
            (_("Frameworks with options"), reverse("tenders:options"))
        ],
        "regions_per_joint_tender": [(_("Status report"), reverse("tenders:status_report"))],
    }


# The regions side by side -----------------------------------------------------------------


@dataclass
class ComparisonCell:
    region: Region
    text: str
    status: str  # on, off, none (no target or no figure), na (not available)
    snapshot: object = None  # the region's yearly snapshot (None: not computed)


@dataclass
class ComparisonRow:
    key: str
    label: str
    unit: str
    target_text: str
    target_value: Decimal | None
    cells: list[ComparisonCell]


def region_comparison(
    *, year: int, keys: tuple[str, ...], regions: list[Region], targets: dict
) -> list[ComparisonRow]:
    table = selectors.comparison_for(year=year, keys=keys)
    rows = []
    for key in keys:
        definition = d.get(key)
        target = targets.get(key)
        cells = []
        for region in regions:
            snapshot = table[key].get(region.pk)
            if snapshot is None:
                cells.append(ComparisonCell(region, "–", "none"))
                continue
            if not snapshot.available:
                cells.append(ComparisonCell(region, _("not available"), "na", snapshot))
                continue
            status = "none"
            if target is not None:
                status = "on" if target.is_met(snapshot.value) else "off"
            text = fmt(snapshot.value, definition.unit)
            cells.append(ComparisonCell(region, text, status, snapshot))
        rows.append(
            ComparisonRow(
                key=key,
                label=str(definition.label),
                unit=definition.unit,
                target_text=target_text(target, definition.unit),
                target_value=target.value if target else None,
                cells=cells,
            )
        )
    return rows


def comparison_chart(
    *, key: str, year: int, regions: list[Region], chosen: Region, targets: dict
) -> dict:
    definition = d.get(key)
    table = selectors.comparison_for(year=year, keys=(key,))[key]
    values = []
    for region in regions:
        snapshot = table.get(region.pk)
        ok = snapshot is not None and snapshot.available
        values.append(chart_value(snapshot.value, definition.unit) if ok else None)
    labels = [f"▶ {r.code}" if r.pk == chosen.pk else r.code for r in regions]
    series = [{"label": str(definition.label), "values": values, "target": False}]
    target = targets.get(key)
    if target is not None:
        series.append(
            {
                "label": _("Target %(target)s") % {"target": target_text(target, definition.unit)},
                "values": [chart_value(target.value, definition.unit)] * len(regions),
                "target": True,
            }
        )
    return {
        "kind": "bar",
        "title": _("%(kpi)s, the regions side by side, %(year)s")
        % {"kpi": definition.label, "year": year},
        "unit": chart_unit(definition.unit),
        "labels": labels,
        "series": series,
    }


# The chief's dashboard ----------------------------------------------------------------------


@dataclass
class RegionDashboard(ViewModel):
    """Every KPI of one region for one year as cards with trends; for those who may compare,
    the regions side by side."""

    scope: Scope
    cards: list[Card]
    charts: dict
    series: dict
    run: object
    strategy: object
    strategy_year: int
    can_compare: bool
    compare_choices: list
    export_url: str
    report_url: str
    collaboration_url: str
    can_view_collaboration: bool
    scope_keep: list[tuple[str, str]]
    comparison_regions: list[Region] = field(default_factory=list)
    comparison: list[ComparisonRow] = field(default_factory=list)
    compare_label: str = ""
    freshness: object = None


def _page_links(user, scope: Scope) -> dict:
    return {
        "export_url": f"{reverse('kpi:export')}?{scope.query()}",
        "report_url": f"{reverse('kpi:report')}?{urlencode({'region': scope.region.code})}",
        "collaboration_url": f"{reverse('kpi:collaboration')}?{urlencode({'year': scope.year})}",
        "can_view_collaboration": permissions.can_view_collaboration_kpis(user),
    }


def region_dashboard(user, scope: Scope) -> RegionDashboard:
    """Everything the chief's dashboard and its export show, from snapshots only."""
    region, year = scope.region, scope.year
    raw_cards = selectors.cards_for(year=year, region=region)
    series = selectors.series_for(region=region, keys=d.REGION_KEYS)
    links = region_links(user, region, year)
    charts: dict = {}
    cards = []
    for raw in raw_cards:
        card = make_card(raw)
        card.links = links.get(card.key, [])
        add_trends(card, series.get(card.key, []), year, charts, "region")
        cards.append(card)
    page = RegionDashboard(
        scope=scope,
        cards=cards,
        charts=charts,
        series=series,
        run=selectors.run_latest(),
        freshness=kpi_services.freshness_for(region),
        strategy=selectors.strategy_for_year(year),
        strategy_year=year,
        can_compare=permissions.can_view_collaboration_kpis(user),
        compare_choices=[(key, d.get(key).label) for key in d.REGION_KEYS],
        scope_keep=[("compare", scope.compare)] if scope.compare != DEFAULT_COMPARE else [],
        **_page_links(user, scope),
    )
    if page.can_compare:
        regions = list(Region.objects.filter(active=True).order_by("code"))
        targets = {raw.key: raw.target for raw in raw_cards if raw.target}
        page.comparison_regions = regions
        page.comparison = region_comparison(
            year=year, keys=d.REGION_KEYS, regions=regions, targets=targets
        )
        charts["comparison"] = comparison_chart(
            key=scope.compare, year=year, regions=regions, chosen=region, targets=targets
        )
        page.compare_label = d.get(scope.compare).label
    return page


# The collaboration dashboard ----------------------------------------------------------------


@dataclass
class ParticipationRow:
    region: Region
    value: str
    url: str


@dataclass
class ProgressRow:
    label: str
    target: str
    status: str  # on, off, none
    text: str


@dataclass
class Progress:
    rows: list[ProgressRow]
    on: int
    total: int


@dataclass
class CollaborationDashboard(ViewModel):
    """The collaboration KPIs, participation per region, outstanding decisions, progress."""

    year: int
    years: list[int]
    cards: list[Card]
    charts: dict
    participation: list[ParticipationRow]
    outstanding: list
    progress: Progress
    strategy: object
    run: object
    strategy_year: int
    export_url: str
    dashboard_url: str
    errors: list[str] = field(default_factory=list)


def collaboration_page(params) -> CollaborationDashboard:
    """The collaboration dashboard for the year asked in ``params`` (default: the latest)."""
    form = DashboardForm(params, region_choices=[])
    form.is_valid()
    years = selectors.years_available()
    year = _year_or_latest(form.cleaned_data.get("year"), years)
    page = collaboration_dashboard(year, years=years)
    page.errors = form_errors(form, only=("year",))
    return page


def collaboration_for(user, year: int) -> CollaborationDashboard | None:
    """The collaboration dashboard if the user may see it (the report and the export)."""
    if not permissions.can_view_collaboration_kpis(user):
        return None
    return collaboration_dashboard(year)


def collaboration_dashboard(year: int, *, years: list[int] | None = None) -> CollaborationDashboard:
    """The collaboration KPIs, participation per region, outstanding decisions, progress."""
    raw_cards = selectors.cards_for(year=year, region=None)
    series = selectors.series_for(
        region=None, keys=[c.key for c in raw_cards], period_kinds=(d.YEAR,)
    )
    links = collaboration_links(year)
    charts: dict = {}
    cards = []
    for raw in raw_cards:
        card = make_card(raw)
        card.links = links.get(card.key, [])
        detail = (raw.snapshot.detail or {}) if raw.available else {}
        if card.key == "avg_price_reduction_joint" and detail.get("value_weighted"):
            card.extra.append(
                (_("Value-weighted"), fmt(Decimal(detail["value_weighted"]), d.RATIO))
            )
            card.extra.append((_("Joint tenders counted"), str(detail.get("tenders", ""))))
        if card.key == "annual_savings" and card.target_value and card.value is not None:
            card.extra.append((_("Of the target"), fmt(card.value / card.target_value, d.RATIO)))
        if card.key == "annual_savings" and detail.get("since"):
            # The strategy's target counts new savings: contracts started from its first day.
            since = dt.date.fromisoformat(detail["since"])
            card.extra.append((_("Contracts started from"), since.strftime("%d-%m-%Y")))
        add_trends(card, series.get(card.key, []), year, charts, "collaboration")
        cards.append(card)
    regions = list(Region.objects.filter(active=True).order_by("code"))
    participation = selectors.comparison_for(year=year, keys=("participation_per_region",))[
        "participation_per_region"
    ]
    participation_rows = []
    for region in regions:
        snapshot = participation.get(region.pk)
        available = snapshot is not None and snapshot.available
        participation_rows.append(
            ParticipationRow(
                region=region,
                value=fmt(snapshot.value, d.COUNT) if available else _("not available"),
                url=reverse("tenders:region", kwargs={"code": region.code}),
            )
        )
    charts["participation"] = {
        "kind": "bar",
        "title": _("Joint tenders per region, %(year)s") % {"year": year},
        "unit": "",
        "labels": [r.code for r in regions],
        "series": [
            {
                "label": str(d.get("participation_per_region").label),
                "values": [
                    chart_value(participation[r.pk].value, d.COUNT)
                    if r.pk in participation and participation[r.pk].available
                    else None
                    for r in regions
                ],
                "target": False,
            }
        ],
    }
    return CollaborationDashboard(
        year=year,
        years=list(years or []),
        cards=cards,
        charts=charts,
        participation=participation_rows,
        outstanding=tender_selectors.outstanding_explanations(),
        progress=strategy_progress(year=year, collaboration_cards=cards, regions=regions),
        strategy=selectors.strategy_for_year(year),
        run=selectors.run_latest(),
        strategy_year=year,
        export_url=f"{reverse('kpi:export')}?{urlencode({'year': year})}",
        dashboard_url=f"{reverse('kpi:index')}?{urlencode({'year': year})}",
    )


def strategy_progress(*, year: int, collaboration_cards: list[Card], regions: list) -> Progress:
    """Every KPI with a target: the collaboration's status, and for the region KPIs how many
    regions are on track."""
    targets = selectors.targets_for_year(year)
    region_keys = [key for key in d.REGION_KEYS if key in targets]
    table = selectors.comparison_for(year=year, keys=region_keys)
    rows = []
    on = total = 0
    for card in collaboration_cards:
        if card.target_text:
            where = card.value_text or _("not available")
            rows.append(
                ProgressRow(
                    label=card.label,
                    target=card.target_text,
                    status=card.status,
                    text=f"{where} · {card.status_text}",
                )
            )
            total += 1
            on += card.status == "on"
    for key in region_keys:
        target = targets[key]
        definition = d.get(key)
        met = sum(
            1
            for region in regions
            if (s := table[key].get(region.pk)) is not None
            and s.available
            and target.is_met(s.value)
        )
        status = "on" if met == len(regions) else ("off" if regions else "none")
        rows.append(
            ProgressRow(
                label=str(definition.label),
                target=target_text(target, definition.unit),
                status=status,
                text=_("%(met)s of %(count)s regions on track")
                % {"met": met, "count": len(regions)},
            )
        )
        total += 1
        on += status == "on"
    return Progress(rows=rows, on=on, total=total)


# The monthly report -------------------------------------------------------------------------


@dataclass
class ReportRow:
    """One KPI of the report: the month's figure and its change, beside the year to date
    and the same months a year earlier."""

    card: Card
    month_text: str
    month_reason: str
    month_change: str
    ytd_text: str = ""
    ytd_last_text: str = ""
    ytd_change: str = ""


# A share of the top suppliers or a change against a baseline does not add up over months.
NOT_ADDITIVE = frozenset({"digital_order_share_top100", "spot_purchase_reduction"})


def year_to_date(key: str, unit: str, snapshots: list, months: int) -> Decimal | None:
    """A KPI over the first ``months`` months of a year, from its monthly snapshots.

    Amounts and counts add up; a share is Σ numerator / Σ denominator. None when a month is
    missing or not available, or the KPI does not add up over months.
    """
    if key in NOT_ADDITIVE or len(snapshots) != months:
        return None
    if any(not s.available or s.value is None for s in snapshots):
        return None
    if unit != d.RATIO:
        return sum((s.value for s in snapshots), Decimal(0))
    try:
        numerator = sum(Decimal(str(s.detail["numerator"])) for s in snapshots)
        denominator = sum(Decimal(str(s.detail["denominator"])) for s in snapshots)
    except (KeyError, TypeError, ArithmeticError):
        return None
    return numerator / denominator if denominator else None


def _months_label(month: dt.date) -> str:
    """ "Jan–Mar 2025" ("jan.–mar. 2025"): the months from January to ``month``."""
    last = formats.date_format(month, "M")
    if month.month == 1:
        return f"{last} {month.year}"
    return f"{formats.date_format(month.replace(month=1), 'M')}–{last} {month.year}"


def last_complete_month(months: list[dt.date], today: dt.date) -> dt.date | None:
    """The newest month with figures that has ended (the current month is still running)."""
    this_month = today.replace(day=1)
    return next((m for m in months if m < this_month), months[0] if months else None)


@dataclass
class MonthlyReport(ViewModel):
    """The printable monthly report to management: one region, one month and the year so far."""

    scope: Scope
    month: dt.date
    months: list[dt.date]
    rows: list[ReportRow]
    charts: dict
    run: object
    strategy: object
    strategy_year: int
    printed: dt.datetime
    export_url: str
    report_url: str
    collaboration_url: str
    can_view_collaboration: bool
    collaboration_cards: list[Card] = field(default_factory=list)
    outstanding: list = field(default_factory=list)
    ytd_label: str = ""
    ytd_last_label: str = ""


def monthly_report(user, scope: Scope) -> MonthlyReport:
    """The month asked for in ``scope.form`` (default: the newest), and ``scope.year`` set
    to its year."""
    months = selectors.months_available(region=scope.region)
    today = timezone.localdate()
    month = (
        scope.form.cleaned_data.get("month")
        or last_complete_month(months, today)
        or (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    )
    scope.year = month.year
    month_figures = selectors.month_snapshots(region=scope.region, month=month)
    previous_month = (month - dt.timedelta(days=1)).replace(day=1)
    previous_figures = selectors.month_snapshots(region=scope.region, month=previous_month)
    raw_cards = selectors.cards_for(year=month.year, region=scope.region)
    # Year to date against the same months a year earlier, never a part year against a full.
    ytd = selectors.months_snapshots(region=scope.region, first=month.replace(month=1), last=month)
    a_year_before = month.replace(year=month.year - 1)
    ytd_last = selectors.months_snapshots(
        region=scope.region, first=a_year_before.replace(month=1), last=a_year_before
    )
    series = selectors.series_for(region=scope.region, keys=d.REGION_KEYS)
    charts: dict = {}
    rows = []
    for raw in raw_cards:
        card = make_card(raw)
        add_trends(card, series.get(card.key, []), month.year, charts, "report")
        this = month_figures.get(card.key)
        before = previous_figures.get(card.key)
        available = this is not None and this.available
        delta = None
        if available and before is not None and before.available:
            delta = this.value - before.value
        so_far = year_to_date(card.key, card.unit, ytd.get(card.key, []), month.month)
        before_so_far = year_to_date(card.key, card.unit, ytd_last.get(card.key, []), month.month)
        rows.append(
            ReportRow(
                card=card,
                month_text=fmt(this.value, card.unit) if available else _("not available"),
                month_reason="" if available else reason_text(this),
                month_change=fmt_change(delta, card.unit),
                ytd_text=fmt(so_far, card.unit) if so_far is not None else "",
                ytd_last_text=fmt(before_so_far, card.unit) if before_so_far is not None else "",
                ytd_change=fmt_change(
                    so_far - before_so_far
                    if so_far is not None and before_so_far is not None
                    else None,
                    card.unit,
                ),
            )
        )
    page = MonthlyReport(
        scope=scope,
        month=month,
        months=months,
        rows=rows,
        charts=charts,
        run=selectors.run_latest(),
        strategy=selectors.strategy_for_year(month.year),
        strategy_year=month.year,
        printed=timezone.localtime(),
        ytd_label=_months_label(month),
        ytd_last_label=_months_label(a_year_before),
        **_page_links(user, scope),
    )
    collaboration = collaboration_for(user, month.year)
    if collaboration is not None:
        page.collaboration_cards = collaboration.cards
        page.outstanding = collaboration.outstanding
    return page


# Drill-downs of our own ---------------------------------------------------------------------


@dataclass
class DrillDown(ViewModel):
    """A drill-down page: its table, and around it the region's figure for the year."""

    scope: Scope
    regions: list[Region]
    snapshot: object
    snapshot_text: str
    snapshot_reason: str
    dashboard_url: str
    can_view_collaboration: bool
    leaks: dict | None = None
    figures: dict | None = None


def _drill_down(user, scope: Scope, key: str, **table) -> DrillDown:
    snapshot = selectors.snapshot_get(
        key=key, region=scope.region, period_kind=d.YEAR, period_start=dt.date(scope.year, 1, 1)
    )
    available = snapshot is not None and snapshot.available
    return DrillDown(
        scope=scope,
        regions=[r for r in scope.regions if permissions.can_view_region_spend(user, r)],
        snapshot=snapshot,
        snapshot_text=fmt(snapshot.value, d.RATIO) if available else "",
        snapshot_reason=reason_text(snapshot) if snapshot is not None and not available else "",
        dashboard_url=f"{reverse('kpi:index')}?{scope.query()}",
        can_view_collaboration=permissions.can_view_collaboration_kpis(user),
        **table,
    )


def compliance_drill_down(user, scope: Scope) -> DrillDown:
    """Where compliance leaks: spend in covered categories bought without a covering contract."""
    leaks = selectors.compliance_leaks(region=scope.region, year=scope.year)
    return _drill_down(user, scope, "compliance", leaks=leaks)


def digital_orders_drill_down(user, scope: Scope) -> DrillDown:
    """The region's 100 suppliers with most transactions, with their e-order share."""
    figures = selectors.top_suppliers_e_order(region=scope.region, year=scope.year)
    return _drill_down(user, scope, "digital_order_share_top100", figures=figures)


# Strategies and the action plan -------------------------------------------------------------


@dataclass
class StrategyRow:
    strategy: object
    in_force: bool
    targets: list[tuple[str, str]]  # (KPI label, "≥ 80,0 %")
    activity_count: int
    action_plan_url: str


@dataclass
class StrategiesPage(ViewModel):
    """Every strategy with its period, baseline year and targets; which one is in force."""

    rows: list[StrategyRow]
    year: int
    in_force: object
    can_manage: bool
    create_url: str


def strategies_page(user) -> StrategiesPage:
    year = timezone.localdate().year
    in_force = selectors.strategy_for_year(year)
    rows = []
    for strategy in selectors.strategies_all().prefetch_related("targets"):
        targets = [
            (str(d.get(t.key).label), target_text(t, d.get(t.key).unit))
            for t in sorted(strategy.targets.all(), key=lambda t: d.KEYS.index(t.key))
        ]
        rows.append(
            StrategyRow(
                strategy=strategy,
                in_force=in_force is not None and strategy.pk == in_force.pk,
                targets=targets,
                activity_count=strategy.activity_count,
                action_plan_url=f"{reverse('kpi:action_plan')}?"
                f"{urlencode({'strategy': strategy.code})}",
            )
        )
    return StrategiesPage(
        rows=rows,
        year=year,
        in_force=in_force,
        can_manage=permissions.can_manage_strategies(user),
        create_url=reverse("kpi:strategy_create"),
    )


def strategy_copy_initial() -> dict:
    """The new strategy's form, filled in from the latest one: the years after it."""
    latest = selectors.strategy_latest()
    if latest is None:
        return {}
    length = latest.end_year - latest.start_year
    start = latest.end_year + 1
    return {
        "source": latest.pk,
        "start_year": start,
        "end_year": start + length,
        "baseline_year": latest.end_year,
    }


@dataclass
class ActivityRow:
    activity: object
    overdue: bool
    form: object = None  # the secretariat's update form


@dataclass
class ActionPlanPage(ViewModel):
    """One strategy's action plan: activities by status and region, overdue ones marked."""

    strategy: object
    form: object
    rows: list[ActivityRow]
    counts: list[tuple[str, int]]  # (status label, number) over the whole plan
    overdue_count: int
    can_update: bool
    today: dt.date
    errors: list[str] = field(default_factory=list)


def action_plan_page(user, params) -> ActionPlanPage:
    """The action plan of the strategy asked for (default: the one in force, else the latest)."""
    strategies = list(selectors.strategies_all())
    regions = list(Region.objects.filter(active=True).order_by("code"))
    form = ActionPlanFilterForm(params, strategies=strategies, regions=regions)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    today = timezone.localdate()
    by_code = {s.code: s for s in strategies}
    strategy = by_code.get(data.get("strategy") or "") or (
        selectors.strategy_for_year(today.year) or (strategies[0] if strategies else None)
    )
    if strategy is not None and not form.data.get("strategy"):
        form.data = form.data.copy()
        form.data["strategy"] = strategy.code
    region = next((r for r in regions if r.code == data.get("region")), None)
    everything = selectors.activities_for(strategy=strategy)
    activities = selectors.activities_for(
        strategy=strategy, status=data.get("status") or "", region=region
    )
    can_update = permissions.can_update_activity(user)
    rows = []
    for activity in activities:
        overdue = activity.is_overdue(today)
        if data.get("overdue") and not overdue:
            continue
        row = ActivityRow(activity=activity, overdue=overdue)
        if can_update:
            row.form = ActivityUpdateForm(
                initial={"status": activity.status, "note": activity.note},
                prefix=f"a{activity.pk}",
            )
        rows.append(row)
    counts = [
        (str(label), sum(1 for a in everything if a.status == value))
        for value, label in StrategyActivity.Status.choices
    ]
    return ActionPlanPage(
        strategy=strategy,
        form=form,
        rows=rows,
        counts=counts,
        overdue_count=sum(1 for a in everything if a.is_overdue(today)),
        can_update=can_update,
        today=today,
        errors=form_errors(form),
    )
