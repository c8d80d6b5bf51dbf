"""Reads of the joint tender plan shared by pages, exports, the API and commands."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rfi.cpv import significant_prefix
from rfi.models import Membership, Region
from tenders.models import CandidateArea, Participation, SavingsRecord, ScoringCriterion, TenderCase


def tender_list() -> QuerySet[TenderCase]:
    return TenderCase.objects.select_related("category", "lead_region", "lead_partner")


class TenderFilter(django_filters.FilterSet):
    """The plan overview's filters; the browser, the export and the API share it."""

    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=TenderCase.Status.choices)
    area = django_filters.ChoiceFilter(choices=TenderCase.Area.choices)
    kind = django_filters.ChoiceFilter(choices=TenderCase.Kind.choices)
    lead_region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(), to_field_name="code", label=_("Lead region")
    )
    participating_region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(),
        to_field_name="code",
        method="filter_participating",
        label=_("Participating region"),
    )
    category = django_filters.CharFilter(method="filter_category", label=_("CPV code"))
    # Bounded: a year outside 1–9999 cannot become a date and would fail in the lookup.
    year = django_filters.NumberFilter(
        method="filter_year", label=_("Year"), min_value=1, max_value=9999
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("reference", "reference"),
            ("title", "title"),
            ("expected_tender_start", "start"),
            ("contract_end", "contract_end"),
            ("estimated_annual_value", "value"),
            ("status", "status"),
        )
    )

    class Meta:
        model = TenderCase
        fields = [
            "q",
            "status",
            "area",
            "kind",
            "lead_region",
            "participating_region",
            "category",
            "year",
        ]

    def filter_q(self, queryset, name, value):
        condition = Q()
        for word in value.split():
            condition &= (
                Q(title__icontains=word)
                | Q(description__icontains=word)
                | Q(reference__icontains=word)
                | Q(category__code__startswith=word)
            )
        return queryset.filter(condition)

    def filter_participating(self, queryset, name, value: Region):
        # The hint on ``value`` tells drf-spectacular the query parameter is a plain string.
        takes_part = Participation.objects.filter(
            tender=OuterRef("pk"),
            region=value,
            status__in=[Participation.Status.FULL, Participation.Status.OPTION],
        )
        return queryset.filter(Exists(takes_part))

    def filter_category(self, queryset, name, value):
        prefix = significant_prefix(value)
        return queryset.filter(category__code__startswith=prefix)

    def filter_year(self, queryset, name, value):
        year = int(value)
        return queryset.filter(
            Q(expected_tender_start__year=year)
            | Q(contract_start__year__lte=year, contract_end__year__gte=year)
        )


def participation_grid(tenders) -> dict[int, dict[str, Participation]]:
    """tender id → region code → participation, in one query."""
    grid: dict[int, dict[str, Participation]] = defaultdict(dict)
    rows = Participation.objects.filter(tender__in=tenders).select_related(
        "region", "opt_out_reason"
    )
    for participation in rows:
        grid[participation.tender_id][participation.region.code] = participation
    return grid


# Follow or explain -----------------------------------------------------------------------


@dataclass
class OutstandingCase:
    tender: TenderCase
    pending_regions: list[Region]
    decided: int
    total: int
    overdue: bool

    @property
    def response_rate(self) -> float:
        return self.decided / self.total if self.total else 1.0


def outstanding_explanations(*, region: Region | None = None, today=None) -> list[OutstandingCase]:
    """Cases where a region has neither decided nor explained, with each case's response rate."""
    today = today or timezone.localdate()
    pending = Participation.objects.filter(
        status=Participation.Status.PENDING, region__active=True
    ).exclude(tender__status=TenderCase.Status.CANCELLED)
    if region is not None:
        pending = pending.filter(region=region)
    tender_ids = pending.values("tender_id")
    tenders = (
        tender_list()
        .filter(pk__in=tender_ids)
        .annotate(
            total=Count("participations", filter=Q(participations__region__active=True)),
            decided=Count(
                "participations",
                filter=Q(participations__region__active=True)
                & ~Q(participations__status=Participation.Status.PENDING),
            ),
        )
        .order_by("decision_deadline", "reference")
    )
    pending_by_tender = defaultdict(list)
    for participation in pending.select_related("region"):
        pending_by_tender[participation.tender_id].append(participation.region)
    return [
        OutstandingCase(
            tender=t,
            pending_regions=sorted(pending_by_tender[t.pk], key=lambda r: r.code),
            decided=t.decided,
            total=t.total,
            overdue=bool(t.decision_deadline and t.decision_deadline < today),
        )
        for t in tenders
    ]


def pending_reminders_due(*, today: dt.date, days: list[int]) -> QuerySet[Participation]:
    """Pending participations whose decision deadline is exactly one of ``days`` ahead."""
    deadlines = [today + dt.timedelta(days=d) for d in days]
    return (
        Participation.objects.filter(
            status=Participation.Status.PENDING,
            region__active=True,
            tender__decision_deadline__in=deadlines,
        )
        .exclude(tender__status=TenderCase.Status.CANCELLED)
        .select_related("tender", "region")
    )


def officer_emails(*, region: Region) -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True, memberships__region=region, memberships__role=Membership.Role.OFFICER
    )
    return sorted({u.email for u in users if u.email})


# Options -------------------------------------------------------------------------------------


def option_uptake() -> dict:
    """Per framework with options: who holds one, who exercised it and when; shares per year."""
    holders = (
        Participation.objects.filter(status=Participation.Status.OPTION)
        .select_related("tender", "region")
        .order_by("tender__reference", "region__code")
    )
    by_tender: dict[TenderCase, list[Participation]] = defaultdict(list)
    per_region_year: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for participation in holders:
        by_tender[participation.tender].append(participation)
        year = (
            participation.option_expected_join
            or participation.tender.contract_start
            or timezone.localdate()
        ).year
        counts = per_region_year[(participation.region.code, year)]
        counts[0] += 1
        counts[1] += 1 if participation.option_exercised_on else 0
    shares = [
        {
            "region": region,
            "year": year,
            "held": held,
            "exercised": exercised,
            "share": exercised / held if held else None,
        }
        for (region, year), (held, exercised) in sorted(per_region_year.items())
    ]
    return {"tenders": dict(by_tender), "shares": shares}


# UFO ----------------------------------------------------------------------------------------


@dataclass
class CandidateRanking:
    candidate: CandidateArea
    weighted_mean: float | None
    spread: float | None
    sheet_means: dict[str, float] = field(default_factory=dict)
    missing_scorers: list = field(default_factory=list)


def ufo_members():
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__role=Membership.Role.UFO)
        .distinct()
        .order_by("username")
    )


def candidate_ranking(*, plan_year: int | None = None) -> list[CandidateRanking]:
    """Candidates ranked by the mean of each scorer's weighted score, with spread."""
    candidates = CandidateArea.objects.select_related("category", "tender").prefetch_related(
        "score_sheets__scores__criterion", "score_sheets__scorer"
    )
    if plan_year:
        candidates = candidates.filter(plan_year=plan_year)
    members = list(ufo_members())
    weights = {c.pk: c.weight for c in ScoringCriterion.objects.filter(active=True)}
    rankings = []
    for candidate in candidates:
        sheet_means = {}
        for sheet in candidate.score_sheets.all():
            scored = [
                (weights[s.criterion_id], s.value)
                for s in sheet.scores.all()
                if s.criterion_id in weights
            ]
            total_weight = sum(w for w, _v in scored)
            if total_weight:
                mean = sum(w * v for w, v in scored) / total_weight
                sheet_means[sheet.scorer.username] = float(mean)
        values = list(sheet_means.values())
        rankings.append(
            CandidateRanking(
                candidate=candidate,
                weighted_mean=sum(values) / len(values) if values else None,
                spread=max(values) - min(values) if values else None,
                sheet_means=sheet_means,
                missing_scorers=[m for m in members if m.username not in sheet_means],
            )
        )
    rankings.sort(key=lambda r: (r.weighted_mean is None, -(r.weighted_mean or 0)))
    return rankings


def annual_cycle(*, today: dt.date | None = None) -> dict:
    """Recommendations for plan year N are due in Q1 of N−1; where does the cycle stand?"""
    today = today or timezone.localdate()
    plan_year = today.year + 1
    due = dt.date(today.year, 3, 31)
    candidates = CandidateArea.objects.filter(plan_year=plan_year)
    return {
        "plan_year": plan_year,
        "recommendations_due": due,
        "in_recommendation_window": today <= due,
        "counts": dict(candidates.values_list("status").annotate(n=Count("id"))),
    }


# Status report (the regions' published overview) ---------------------------------------------

ACTIVE_STATUSES = (TenderCase.Status.PLANNED, TenderCase.Status.IN_TENDER)
CONTRACT_STATUSES = (TenderCase.Status.IN_CONTRACT,)
TAKES_PART = (Participation.Status.FULL, Participation.Status.OPTION)


def status_horizon_end(as_of: dt.date) -> dt.date:
    """The published report's horizon: the end of the year after the report's date."""
    return dt.date(as_of.year + 1, 12, 31)


def _plan_as_it_stood(as_of: dt.date | None):
    """The tender cases and participations now, or at the end of ``as_of`` from the history."""
    if as_of is None:
        tenders = TenderCase.objects.only(
            "status", "area", "expected_tender_start", "lead_region", "estimated_annual_value"
        )
        participations = Participation.objects.filter(status__in=TAKES_PART).only(
            "tender", "region", "status"
        )
        return list(tenders), list(participations)
    end_of_day = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))
    moment = end_of_day - dt.timedelta(microseconds=1)
    return list(TenderCase.history.as_of(moment)), list(Participation.history.as_of(moment))


def status_report(*, as_of: dt.date | None = None, today: dt.date | None = None) -> dict:
    """The status report as the regions publish it (docs/status-report.md).

    Joint tenders only: at least two participating regions, the lead region included
    (a region participates fully or on an option; a lead region always counts). A case
    led by a partner body counts when at least two regions take part.
    Upcoming and current: cases in tender, and planned cases whose expected tender start
    is on or before ``horizon_end`` (31 December of the year after the report's date).
    In contract period: cases in their contract period.
    ``as_of`` (a past date) reconstructs the plan as it stood at the end of that day from
    the history tables; without it the report is today's.
    """
    today = today or timezone.localdate()
    report_date = as_of or today
    horizon_end = status_horizon_end(report_date)
    tenders, participations = _plan_as_it_stood(as_of if as_of and as_of < today else None)
    active_regions = dict(Region.objects.filter(active=True).values_list("pk", "code"))
    taking_part: dict[int, set[int]] = defaultdict(set)
    for participation in participations:
        if participation.status in TAKES_PART and participation.region_id in active_regions:
            taking_part[participation.tender_id].add(participation.region_id)

    cells = {
        f"{phase}.{area}": {"tenders": 0, "annual_value": Decimal("0")}
        for phase in ("upcoming_current", "in_contract")
        for area in TenderCase.Area.values
    }
    left_out = {"not_joint": 0, "beyond_horizon": 0}
    per_region: dict[str, int] = defaultdict(int)
    participations_counted = 0
    for tender in tenders:
        if tender.status in CONTRACT_STATUSES:
            phase = "in_contract"
        elif tender.status == TenderCase.Status.IN_TENDER:
            phase = "upcoming_current"
        elif tender.status == TenderCase.Status.PLANNED:
            start = tender.expected_tender_start
            if start is None or start > horizon_end:
                left_out["beyond_horizon"] += 1
                continue
            phase = "upcoming_current"
        else:
            continue
        regions = set(taking_part.get(tender.pk, ()))
        if tender.lead_region_id in active_regions:
            regions.add(tender.lead_region_id)
        if len(regions) < 2:
            left_out["not_joint"] += 1
            continue
        cell = cells.get(f"{phase}.{tender.area}")
        if cell is None:  # an area no longer offered: never silently dropped from the total
            cell = cells.setdefault(
                f"{phase}.{tender.area}", {"tenders": 0, "annual_value": Decimal("0")}
            )
        cell["tenders"] += 1
        cell["annual_value"] += tender.estimated_annual_value or Decimal("0")
        participations_counted += len(regions)
        for region_id in regions:
            per_region[active_regions[region_id]] += 1

    tender_count = sum(c["tenders"] for c in cells.values())
    region_count = len(active_regions)
    return {
        "as_of": report_date,
        "horizon_end": horizon_end,
        "cells": cells,
        "tenders": tender_count,
        "annual_value": sum((c["annual_value"] for c in cells.values()), Decimal("0")),
        "regions_per_tender": participations_counted / tender_count if tender_count else None,
        "tenders_per_region": participations_counted / region_count if region_count else None,
        "per_region": dict(per_region),
        "left_out": left_out,
    }


# Region page --------------------------------------------------------------------------------


def region_overview(*, region: Region) -> dict:
    tenders = tender_list()
    mine = Participation.objects.filter(region=region).select_related(
        "tender", "tender__category", "tender__lead_region", "tender__lead_partner"
    )
    by_status = defaultdict(list)
    for participation in mine:
        by_status[participation.status].append(participation)
    return {
        "leads": list(tenders.filter(lead_region=region)),
        "full": by_status[Participation.Status.FULL],
        "option": by_status[Participation.Status.OPTION],
        "opted_out": by_status[Participation.Status.OPTED_OUT],
        "pending": by_status[Participation.Status.PENDING],
    }


# Savings ------------------------------------------------------------------------------------


def savings_totals(*, group_by: str) -> list[dict]:
    """Awarded annual savings rolled up per tender, region, area or year (of contract start).

    Only awarded records are savings; each row also carries the expected (forecast) annual
    saving of its group. Grouped per tender, a region's own contract is its own row (region,
    category, kind), since it has no case; its area comes from its category.
    """
    from tenders.services import area_for_code, area_mappings

    mappings = area_mappings()
    records = SavingsRecord.objects.select_related("tender", "region", "category")
    groups: dict[object, dict] = {}
    for record in records:
        if group_by == "tender":
            if record.tender_id:
                key, sort = record.tender.reference, (0, record.tender.reference)
            else:
                key = f"{record.region.code}:{record.category.code}:{record.kind}"
                sort = (1, key)
        elif group_by == "region":
            key = sort = record.region.code
        elif group_by == "area":
            key = (
                record.tender.area
                if record.tender_id
                else area_for_code(record.category.code, mappings)
            )
            sort = key
        else:
            start = record.contract_start or (
                record.tender.contract_start if record.tender_id else None
            )
            key = start.year if start else None
            sort = (key is None, key or 0)
        row = groups.setdefault(
            key,
            {
                "key": key,
                "sort": sort,
                "record": record,
                "baseline": Decimal("0.00"),
                "new": Decimal("0.00"),
                "expected": Decimal("0.00"),
                "awarded_records": 0,
            },
        )
        if record.stage in SavingsRecord.COUNTED_STAGES:
            row["baseline"] += record.baseline_annual_cost
            row["new"] += record.new_annual_cost
            row["awarded_records"] += 1
        else:
            row["expected"] += record.annual_saving
    out = []
    for row in sorted(groups.values(), key=lambda r: r["sort"]):
        row["saving"] = row["baseline"] - row["new"]
        row["price_reduction"] = row["saving"] / row["baseline"] if row["baseline"] else None
        out.append(row)
    return out
