"""The UFO group's screening of a candidate area: the ledger's figures for its CPV subtree.

One read, ``category_screening``, shared by the candidate page, the proposal form (the
"Propose as candidate area" link of the off-contract page) and the API. For the
category and everything below it (``rfi.cpv.significant_prefix``), across the regions:

- two periods: the *last 12 months* (the 12 full months ending with the latest month
  that has ledger lines in any region: the "as of" month) and the *last full year*
  (the latest calendar year whose December is at or before the as-of month and whose
  January the ledger reaches);
- per region and in total: addressable spend, the share on contract and the number of
  suppliers; the top suppliers across the regions;
- the regions' contracts in the category (in its subtree, or covering it) that end,
  extensions included, within 24 months of today.

The share on contract is KPI.md's *compliance*: category-matched spend ÷ spend in a
covered category (``spend.selectors.covered_category_q``, the rule the KPI drill-down
uses). A region with no spend in a covered category has no share (None, "not
available"), never 0.

Every figure is a database aggregation: per period one query grouped by region plus two
for the suppliers, however many regions there are (each region's covered categories are
read in one query and OR-ed, ``spend.selectors.covered_category_by_region_q``). ``Screening.to_json`` / ``from_json`` keep a proposal's figures on the
candidate area (``CandidateArea.screening_at_proposal``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from rfi.cpv import DIVISION_DIGITS, significant_prefix
from rfi.models import Category, Region
from spend import selectors
from suppliers.models import Contract
from suppliers.selectors import add_months

PERIOD_MONTHS = 12
ENDING_WITHIN_MONTHS = 24
TOP_SUPPLIERS = 5


@dataclass
class RegionFigures:
    code: str  # "" for the total across the regions
    name: str
    total: Decimal
    covered: Decimal  # spend in a covered category
    on_contract: Decimal  # of it, category-matched
    suppliers: int

    @property
    def on_contract_share(self) -> Decimal | None:
        return selectors.share(self.on_contract, self.covered)


@dataclass
class SupplierFigures:
    supplier_id: str
    name: str
    total: Decimal
    share: Decimal | None  # of the period's total, %


@dataclass
class PeriodFigures:
    start: dt.date
    end: dt.date
    regions: list[RegionFigures]
    total: RegionFigures | None  # None when the viewer may not see every region
    top_suppliers: list[SupplierFigures] = field(default_factory=list)


@dataclass
class EndingContract:
    region_code: str
    region_name: str
    title: str
    supplier_name: str
    category_code: str
    ends_on: dt.date


@dataclass
class Screening:
    code: str
    prefix: str
    today: dt.date
    as_of: dt.date | None  # the first day of the latest month with ledger lines
    last_12_months: PeriodFigures | None
    full_year: int | None
    last_full_year: PeriodFigures | None
    ends_by: dt.date
    contracts_ending: list[EndingContract]
    all_regions: bool = True

    @property
    def annual_spend(self) -> Decimal | None:
        """The last 12 months' spend of every region: what the volume score is suggested from."""
        period = self.last_12_months
        if period is None or period.total is None:
            return None
        return period.total.total

    def restricted_to(self, region_codes: set[str]) -> Screening:
        """Only the given regions' rows: no total, no suppliers across the regions."""

        def period(figures: PeriodFigures | None) -> PeriodFigures | None:
            if figures is None:
                return None
            rows = [row for row in figures.regions if row.code in region_codes]
            return replace(figures, regions=rows, total=None, top_suppliers=[])

        return replace(
            self,
            last_12_months=period(self.last_12_months),
            last_full_year=period(self.last_full_year),
            contracts_ending=[c for c in self.contracts_ending if c.region_code in region_codes],
            all_regions=False,
        )

    def to_json(self) -> dict:
        return _to_json(self)

    @classmethod
    def from_json(cls, data: dict) -> Screening:
        return _screening_from_json(data)


# The read --------------------------------------------------------------------------------------


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _category_lines(prefix: str):
    return selectors.spend_lines().filter(
        category_id__in=Category.objects.filter(code__startswith=prefix).values("pk")
    )


def _period(
    lines, regions: list[Region], covered: Q, start: dt.date, end: dt.date
) -> PeriodFigures:
    """The figures of one period; ``covered``: each region's covered-category rule, OR-ed."""
    lines = lines.filter(posting_date__gte=start, posting_date__lte=end)
    money = selectors._money
    by_region = {
        row.pop("region_id"): row
        for row in lines.values("region_id")
        .annotate(
            total=money(),
            covered=money(filter=covered),
            on_contract=money(filter=covered & Q(category_matched=True)),
            suppliers=Count("supplier_id", distinct=True),
        )
        .order_by()
    }
    no_lines = {
        "total": selectors.ZERO,
        "covered": selectors.ZERO,
        "on_contract": selectors.ZERO,
        "suppliers": 0,
    }
    rows = [
        RegionFigures(code=region.code, name=region.name, **by_region.get(region.pk, no_lines))
        for region in regions
    ]
    suppliers = lines.aggregate(n=Count("supplier_id", distinct=True))["n"]
    total = RegionFigures(
        code="",
        name="",
        total=sum((row.total for row in rows), selectors.ZERO),
        covered=sum((row.covered for row in rows), selectors.ZERO),
        on_contract=sum((row.on_contract for row in rows), selectors.ZERO),
        suppliers=suppliers,
    )
    top = [
        SupplierFigures(
            supplier_id=row["supplier_id"],
            name=row["supplier_name"] or "",
            total=row["total"],
            share=selectors.share(row["total"], total.total) if total.total > 0 else None,
        )
        for row in selectors.spend_by_supplier(lines, limit=TOP_SUPPLIERS)
    ]
    return PeriodFigures(start=start, end=end, regions=rows, total=total, top_suppliers=top)


def _contracts_ending(prefix: str, today: dt.date, ends_by: dt.date) -> list[EndingContract]:
    """Contracts in the subtree, or whose category covers the candidate's (a broader one)."""
    covering = [prefix[:n].ljust(8, "0") for n in range(DIVISION_DIGITS, len(prefix) + 1)]
    contracts = (
        Contract.objects.filter(
            Q(category__code__startswith=prefix) | Q(category__code__in=covering)
        )
        .annotate(ends_on=Coalesce("extended_until", "end_date"))
        .filter(ends_on__gte=today, ends_on__lte=ends_by)
        .select_related("region", "supplier", "category")
        .order_by("ends_on", "region__code", "title")
    )
    return [
        EndingContract(
            region_code=c.region.code,
            region_name=c.region.name,
            title=c.title,
            supplier_name=c.supplier.name,
            category_code=c.category.code,
            ends_on=c.ends_on,
        )
        for c in contracts
    ]


def category_screening(
    *, code: str, as_of: dt.date | None = None, today: dt.date | None = None
) -> Screening:
    """The screening figures of a CPV category and its subtree, every active region.

    ``as_of``: a day in the last month to count (default: the latest month with ledger
    lines); ``today``: where the 24 months of contract ends start (default: today).
    """
    today = today or timezone.localdate()
    prefix = significant_prefix(code)
    regions = list(Region.objects.filter(active=True).order_by("code"))
    covered = selectors.covered_category_by_region_q(regions)
    span = selectors.spend_lines().aggregate(first=Min("posting_date"), last=Max("posting_date"))
    if as_of is None:
        as_of = span["last"]
    as_of = _month_start(as_of) if as_of else None
    last_12 = last_year = full_year = None
    if as_of is not None:
        lines = _category_lines(prefix)
        start = add_months(as_of, -(PERIOD_MONTHS - 1))
        end = add_months(as_of, 1) - dt.timedelta(days=1)
        last_12 = _period(lines, regions, covered, start, end)
        year = as_of.year if as_of.month == 12 else as_of.year - 1
        if span["first"] is not None and span["first"] < dt.date(year, 2, 1):
            full_year = year
            last_year = _period(lines, regions, covered, dt.date(year, 1, 1), dt.date(year, 12, 31))
    ends_by = add_months(today, ENDING_WITHIN_MONTHS)
    return Screening(
        code=code,
        prefix=prefix,
        today=today,
        as_of=as_of,
        last_12_months=last_12,
        full_year=full_year,
        last_full_year=last_year,
        ends_by=ends_by,
        contracts_ending=_contracts_ending(prefix, today, ends_by),
    )


# JSON (a proposal's snapshot, the API) --------------------------------------------------------


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _region_json(row: RegionFigures | None) -> dict | None:
    if row is None:
        return None
    share = row.on_contract_share
    return {
        "region": row.code or None,
        "name": row.name,
        "spend": str(row.total),
        "covered_spend": str(row.covered),
        "on_contract_spend": str(row.on_contract),
        "on_contract_share": None if share is None else str(share),
        "suppliers": row.suppliers,
    }


def _region_from_json(data: dict | None) -> RegionFigures | None:
    if data is None:
        return None
    return RegionFigures(
        code=data["region"] or "",
        name=data["name"],
        total=_dec(data["spend"]),
        covered=_dec(data["covered_spend"]),
        on_contract=_dec(data["on_contract_spend"]),
        suppliers=data["suppliers"],
    )


def _period_json(period: PeriodFigures | None) -> dict | None:
    if period is None:
        return None
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "regions": [_region_json(row) for row in period.regions],
        "total": _region_json(period.total),
        "top_suppliers": [
            {
                "supplier_id": s.supplier_id,
                "name": s.name,
                "spend": str(s.total),
                "share": None if s.share is None else str(s.share),
            }
            for s in period.top_suppliers
        ],
    }


def _period_from_json(data: dict | None) -> PeriodFigures | None:
    if data is None:
        return None
    return PeriodFigures(
        start=_date(data["start"]),
        end=_date(data["end"]),
        regions=[_region_from_json(row) for row in data["regions"]],
        total=_region_from_json(data["total"]),
        top_suppliers=[
            SupplierFigures(
                supplier_id=s["supplier_id"],
                name=s["name"],
                total=_dec(s["spend"]),
                share=_dec(s["share"]),
            )
            for s in data["top_suppliers"]
        ],
    )


def _to_json(screening: Screening) -> dict:
    return {
        "category": screening.code,
        "prefix": screening.prefix,
        "today": screening.today.isoformat(),
        "as_of_month": screening.as_of.strftime("%Y-%m") if screening.as_of else None,
        "all_regions": screening.all_regions,
        "annual_spend": None if screening.annual_spend is None else str(screening.annual_spend),
        "last_12_months": _period_json(screening.last_12_months),
        "full_year": screening.full_year,
        "last_full_year": _period_json(screening.last_full_year),
        "contracts_ending_by": screening.ends_by.isoformat(),
        "contracts_ending": [
            {
                "region": c.region_code,
                "region_name": c.region_name,
                "title": c.title,
                "supplier": c.supplier_name,
                "category": c.category_code,
                "ends_on": c.ends_on.isoformat(),
            }
            for c in screening.contracts_ending
        ],
    }


def _screening_from_json(data: dict) -> Screening:
    as_of = data.get("as_of_month")
    return Screening(
        code=data["category"],
        prefix=data["prefix"],
        today=_date(data["today"]),
        as_of=_date(f"{as_of}-01") if as_of else None,
        last_12_months=_period_from_json(data["last_12_months"]),
        full_year=data["full_year"],
        last_full_year=_period_from_json(data["last_full_year"]),
        ends_by=_date(data["contracts_ending_by"]),
        contracts_ending=[
            EndingContract(
                region_code=c["region"],
                region_name=c["region_name"],
                title=c["title"],
                supplier_name=c["supplier"],
                category_code=c["category"],
                ends_on=_date(c["ends_on"]),
            )
            for c in data["contracts_ending"]
        ],
        all_regions=data.get("all_regions", True),
    )
