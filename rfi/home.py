"""The home page's presenter: each role's tasks, as lists of items that link to the work.

A user may hold several roles in several regions: the page has one section per
(role, region) for officers and chiefs, one for the UFO group (its work is shared across
regions) and one for the secretariat. Every item links to the page where the task is done;
a section with nothing in it says so (the template). Reads only; rights are asked of
rfi.permissions. The other apps' models and selectors are imported at module level: none of
them imports rfi.views or this module, so there is no import loop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kpi import selectors as kpi_selectors
from kpi.dashboard import fmt, target_text
from rfi import formatting, permissions
from rfi.models import Membership, Region
from spend.models import ImportBatch
from suppliers.selectors import add_months, contract_list, extension_decisions_due
from tenders.models import CandidateArea, Participation, PlanSettings, ScoreSheet, TenderCase
from tenders.selectors import ufo_members

Role = Membership.Role

OPTION_HORIZON_DAYS = 90
EXTENSION_HORIZON_DAYS = 90
CONTRACT_HORIZON_MONTHS = 12
PENDING_TOO_LONG_DAYS = 30
FAILED_IMPORT_DAYS = 30
LATEST_UPLOADS = 5
KPIS_OFF_TARGET = 3
LIMIT = 20  # items per list; the list's "see all" link shows the rest
OPEN_TENDER_STATUSES = (TenderCase.Status.PLANNED, TenderCase.Status.IN_TENDER)


@dataclass
class Task:
    """One thing to do (or to look at): a line with a link to where it is done."""

    label: str
    url: str
    detail: str = ""
    urgent: bool = False  # overdue or failed: shown first and marked
    urgent_text: str = ""


@dataclass
class TaskList:
    key: str
    title: str
    items: list[Task] = field(default_factory=list)
    more_url: str = ""
    more_text: str = ""
    empty_text: str = ""


@dataclass
class Section:
    """One role's work (in one region, for officers and chiefs)."""

    role: str
    title: str
    lists: list[TaskList] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_tasks(self) -> bool:
        return any(task_list.items for task_list in self.lists)

    @property
    def testid(self) -> str:
        return f"home-{self.role}"


def _date(day: dt.date | None) -> str:
    return date_format(day, "SHORT_DATE_FORMAT") if day else ""


def _deadline_order(deadline: dt.date | None, today: dt.date) -> tuple:
    """Overdue first (oldest deadline first), then the nearest deadline, then none."""
    if deadline is None:
        return (2, dt.date.max)
    return (0 if deadline < today else 1, deadline)


# Officer ------------------------------------------------------------------------------------


def pending_decisions(region: Region, today: dt.date) -> TaskList:
    rows = list(
        Participation.objects.filter(region=region, status=Participation.Status.PENDING)
        .exclude(tender__status=TenderCase.Status.CANCELLED)
        .select_related("tender")
    )
    rows.sort(
        key=lambda p: (*_deadline_order(p.tender.decision_deadline, today), p.tender.reference)
    )
    items = []
    for participation in rows[:LIMIT]:
        tender = participation.tender
        deadline = tender.decision_deadline
        overdue = bool(deadline and deadline < today)
        if deadline:
            detail = _("Decision deadline %(date)s") % {"date": _date(deadline)}
        else:
            detail = _("No decision deadline")
        items.append(
            Task(
                label=f"{tender.reference} {tender.title}",
                url=reverse("tenders:participation", args=[tender.reference, region.code]),
                detail=detail,
                urgent=overdue,
                urgent_text=_("Overdue") if overdue else "",
            )
        )
    return TaskList(
        key="pending",
        title=_("Participation decisions waiting"),
        items=items,
        more_url=reverse("tenders:region", args=[region.code]) if len(rows) > LIMIT else "",
        more_text=_("All %(count)s on the region's page") % {"count": len(rows)},
        empty_text=_("No decisions waiting."),
    )


def missing_explanations(region: Region) -> TaskList:
    """Opt-outs whose written justification is missing or shorter than the plan's minimum."""
    minimum = PlanSettings.current().min_justification_length
    rows = (
        Participation.objects.filter(region=region, status=Participation.Status.OPTED_OUT)
        .exclude(tender__status=TenderCase.Status.CANCELLED)
        .select_related("tender")
        .order_by("tender__reference")
    )
    items = [
        Task(
            label=f"{p.tender.reference} {p.tender.title}",
            url=reverse("tenders:participation", args=[p.tender.reference, region.code]),
            detail=_("Opted out without a justification")
            if not p.justification.strip()
            else _("Justification shorter than %(count)s characters") % {"count": minimum},
        )
        for p in rows
        if len(p.justification.strip()) < minimum
    ]
    return TaskList(
        key="explanations",
        title=_("Explanations still missing"),
        items=items[:LIMIT],
        empty_text=_("Every opt-out is explained."),
    )


def options_due(region: Region, today: dt.date) -> TaskList:
    horizon = today + dt.timedelta(days=OPTION_HORIZON_DAYS)
    rows = (
        Participation.objects.filter(
            region=region,
            status=Participation.Status.OPTION,
            option_exercised_on__isnull=True,
            option_expected_join__lte=horizon,
        )
        .select_related("tender")
        .order_by("option_expected_join", "tender__reference")
    )
    items = []
    for p in rows[:LIMIT]:
        late = p.option_expected_join < today
        items.append(
            Task(
                label=f"{p.tender.reference} {p.tender.title}",
                # The exercise form (a POST) stands in the case's participation table.
                url=reverse("tenders:detail", args=[p.tender.reference]),
                detail=_("Expected to join %(date)s") % {"date": _date(p.option_expected_join)},
                urgent=late,
                urgent_text=_("Overdue") if late else "",
            )
        )
    return TaskList(
        key="options",
        title=_("Options to exercise within 90 days"),
        items=items,
        empty_text=_("No options due."),
    )


# A refused upload, and one waiting for its uploader to confirm the replacement it would make.
_URGENT_UPLOADS = {
    ImportBatch.Status.FAILED: ImportBatch.Status.FAILED.label,
    ImportBatch.Status.AWAITING: ImportBatch.Status.AWAITING.label,
}


def latest_uploads(region: Region) -> TaskList:
    rows = ImportBatch.objects.filter(region=region).order_by("-uploaded_at", "-pk")[
        :LATEST_UPLOADS
    ]
    items = [
        Task(
            label=batch.file_name,
            url=reverse("spend:batch", args=[batch.pk]),
            detail=_("%(state)s, uploaded %(date)s, %(rows)s")
            % {
                "state": batch.get_status_display(),
                "date": _date(timezone.localtime(batch.uploaded_at).date()),
                "rows": formatting.count(batch.rows_loaded or batch.rows_total, "lines"),
            },
            urgent=batch.status in _URGENT_UPLOADS,
            urgent_text=str(_URGENT_UPLOADS.get(batch.status, "")),
        )
        for batch in rows
    ]
    return TaskList(
        key="uploads",
        title=_("Latest uploads"),
        items=items,
        more_url=reverse("spend:upload"),
        more_text=_("Upload a ledger extract"),
        empty_text=_("No ledger extracts uploaded yet."),
    )


def contracts_ending(region: Region, today: dt.date) -> TaskList:
    until = add_months(today, CONTRACT_HORIZON_MONTHS)
    rows = (
        contract_list()
        .filter(region=region, ends_on__gte=today, ends_on__lte=until)
        .order_by("ends_on", "title")
    )
    items = [
        Task(
            label=contract.title,
            url=reverse("suppliers:detail", args=[contract.pk]),
            detail=_("Ends %(date)s · %(value)s a year")
            % {"date": _date(contract.ends_on), "value": formatting.money(contract.annual_value)}
            if contract.annual_value is not None
            else _("Ends %(date)s") % {"date": _date(contract.ends_on)},
        )
        for contract in rows[:LIMIT]
    ]
    return TaskList(
        key="contracts",
        title=_("Contracts ending within 12 months"),
        items=items,
        more_url=reverse("suppliers:pipeline"),
        more_text=_("The contract pipeline"),
        empty_text=_("No contracts end within 12 months."),
    )


def officer_section(region: Region, today: dt.date) -> Section:
    return Section(
        role=Role.OFFICER,
        title=_("Procurement officer, %(region)s") % {"region": region.name},
        lists=[
            pending_decisions(region, today),
            missing_explanations(region),
            options_due(region, today),
            latest_uploads(region),
            contracts_ending(region, today),
        ],
        links=[
            (_("The region's tender plan"), reverse("tenders:region", args=[region.code])),
            (
                _("Outstanding decisions"),
                reverse("tenders:outstanding") + "?" + urlencode({"region": region.code}),
            ),
        ],
    )


# UFO ----------------------------------------------------------------------------------------


def ufo_section(user) -> Section:
    member_count = ufo_members().count()
    mine = ScoreSheet.objects.filter(candidate=OuterRef("pk"), scorer=user)
    rows = (
        CandidateArea.objects.filter(status=CandidateArea.Status.SCREENING)
        .exclude(pk__in=Subquery(mine.values("candidate_id")))
        .annotate(scored=Count("score_sheets__scorer", distinct=True))
        .order_by("plan_year", "title")
    )
    items = [
        Task(
            label=f"{candidate.title} ({candidate.plan_year})",
            url=reverse("tenders:candidate_score", args=[candidate.pk]),
            detail=_("%(scored)s of %(members)s members have scored")
            % {"scored": candidate.scored, "members": member_count},
        )
        for candidate in rows[:LIMIT]
    ]
    return Section(
        role=Role.UFO,
        title=_("UFO member"),
        lists=[
            TaskList(
                key="to-score",
                title=_("Candidate areas waiting for your score"),
                items=items,
                empty_text=_("You have scored every candidate area."),
            )
        ],
        links=[(_("All candidate areas"), reverse("tenders:candidates"))],
    )


# Chief --------------------------------------------------------------------------------------


def _gap(card) -> Decimal:
    """How far a KPI is off its target, relative to the target (so units compare)."""
    target = card.target.value
    distance = abs(card.value - target)
    return distance / abs(target) if target else distance


def kpis_off_target(region: Region) -> tuple[TaskList, int | None]:
    """The three KPIs furthest off target in the latest year with figures (none: an empty list)."""
    years = kpi_selectors.years_available()
    year = years[0] if years else None
    items = []
    if year is not None:
        off = [
            card
            for card in kpi_selectors.cards_for(year=year, region=region)
            if card.available and card.target is not None and card.on_track is False
        ]
        off.sort(key=_gap, reverse=True)
        base = reverse("kpi:index") + "?" + urlencode({"region": region.code, "year": year})
        for card in off[:KPIS_OFF_TARGET]:
            unit = card.definition.unit
            value = formatting.compact_money(card.value) if unit == "dkk" else fmt(card.value, unit)
            items.append(
                Task(
                    label=str(card.definition.label),
                    url=f"{base}#card-region-{card.key}",
                    detail=_("%(value)s, target %(target)s")
                    % {"value": value, "target": target_text(card.target, unit)},
                    urgent=True,
                    urgent_text=_("Off track"),
                )
            )
    task_list = TaskList(
        key="kpis",
        title=_("KPIs furthest off target"),
        items=items,
        empty_text=_("No KPI is off target.") if year else _("No KPI figures yet."),
    )
    return task_list, year


def extension_decisions(region: Region, today: dt.date) -> TaskList:
    """Contracts' extension options whose notice deadline is within 90 days (or passed)."""
    due = extension_decisions_due(
        region_ids=[region.pk], today=today, horizon_days=EXTENSION_HORIZON_DAYS
    )
    items = [
        Task(
            label=extension.contract.title,
            url=reverse("suppliers:detail", args=[extension.contract_id]),
            detail=_("Notice by %(date)s · extends to %(until)s")
            % {"date": _date(extension.notice_deadline), "until": _date(extension.extends_to)},
            urgent=extension.notice_deadline < today,
            urgent_text=_("Notice deadline passed"),
        )
        for extension in due[:LIMIT]
    ]
    return TaskList(
        key="extensions",
        title=_("Extension decisions due"),
        items=items,
        empty_text=_("No extension decisions due within 90 days."),
    )


def chief_section(region: Region, today: dt.date | None = None) -> Section:
    # Recommended areas this region's chief has not voted on yet (the chiefs decide together).
    waiting = (
        CandidateArea.objects.filter(status=CandidateArea.Status.RECOMMENDED)
        .exclude(votes__region=region)
        .order_by("meeting_date", "recommended_at", "title")
    )
    decisions = TaskList(
        key="decisions",
        title=_("Decisions waiting for my vote"),
        items=[
            Task(
                label=f"{candidate.title} ({candidate.plan_year})",
                url=reverse("tenders:candidate_decide", args=[candidate.pk]),
                detail=(
                    _("Chiefs' meeting %(date)s") % {"date": _date(candidate.meeting_date)}
                    if candidate.meeting_date
                    else _("Recommended %(date)s")
                    % {"date": _date(timezone.localtime(candidate.recommended_at).date())}
                    if candidate.recommended_at
                    else _("Recommended by the UFO group")
                ),
            )
            for candidate in waiting[:LIMIT]
        ],
        empty_text=_("No recommendations waiting for your vote."),
    )
    kpis, year = kpis_off_target(region)
    query = {"region": region.code, **({"year": year} if year else {})}
    return Section(
        role=Role.CHIEF,
        title=_("Procurement chief, %(region)s") % {"region": region.name},
        lists=[decisions, extension_decisions(region, today or timezone.localdate()), kpis],
        links=[
            (
                _("The regions side by side"),
                reverse("kpi:index") + "?" + urlencode(query) + "#comparison-heading",
            ),
            (_("The region's KPI dashboard"), reverse("kpi:index") + "?" + urlencode(query)),
        ],
    )


# Secretariat --------------------------------------------------------------------------------


def secretariat_section(today: dt.date) -> Section:
    no_deadline = (
        TenderCase.objects.filter(status__in=OPEN_TENDER_STATUSES, decision_deadline__isnull=True)
        .filter(participations__status=Participation.Status.PENDING)
        .distinct()
        .order_by("reference")
    )
    cases = TaskList(
        key="no-deadline",
        title=_("Cases without a decision deadline"),
        items=[
            Task(
                label=f"{tender.reference} {tender.title}",
                url=reverse("tenders:edit", args=[tender.reference]),
                detail=_("Regions are still deciding; set the deadline"),
            )
            for tender in no_deadline[:LIMIT]
        ],
        empty_text=_("Every open case has a decision deadline."),
    )

    # Pending since the participation row was created (its first history record).
    history = Participation.history.model
    created = (
        history.objects.filter(id=OuterRef("pk"))
        .values("id")
        .annotate(first=Min("history_date"))
        .values("first")
    )
    cutoff = timezone.now() - dt.timedelta(days=PENDING_TOO_LONG_DAYS)
    long_pending = (
        Participation.objects.filter(status=Participation.Status.PENDING, region__active=True)
        .exclude(tender__status=TenderCase.Status.CANCELLED)
        .annotate(since=Subquery(created))
        .filter(Q(since__lte=cutoff) | Q(since__isnull=True, tender__created_at__lte=cutoff))
    )
    counts = dict(long_pending.values_list("region").annotate(n=Count("id")).order_by())
    per_region = sorted(Region.objects.filter(pk__in=counts), key=lambda r: (-counts[r.pk], r.code))
    regions = TaskList(
        key="long-pending",
        title=_("Regions pending for more than 30 days"),
        items=[
            Task(
                label=region.name,
                url=reverse("tenders:outstanding") + "?" + urlencode({"region": region.code}),
                detail=formatting.count(counts[region.pk], "cases"),
                urgent=True,
                urgent_text=_("Pending"),
            )
            for region in per_region
        ],
        empty_text=_("No region has been pending for more than 30 days."),
    )

    since = timezone.now() - dt.timedelta(days=FAILED_IMPORT_DAYS)
    failed = (
        ImportBatch.objects.filter(status=ImportBatch.Status.FAILED, uploaded_at__gte=since)
        .select_related("region")
        .order_by("-uploaded_at")
    )
    imports = TaskList(
        key="failed-imports",
        title=_("Failed imports, last 30 days"),
        items=[
            Task(
                label=f"{batch.region.code} · {batch.file_name}",
                url=reverse("spend:batch", args=[batch.pk]),
                detail=batch.message[:120]
                or _("Uploaded %(date)s")
                % {"date": _date(timezone.localtime(batch.uploaded_at).date())},
                urgent=True,
                urgent_text=_("Refused"),
            )
            for batch in failed[:LIMIT]
        ],
        empty_text=_("No failed imports."),
    )
    return Section(
        role="secretariat",
        title=_("Secretariat: the plan's health"),
        lists=[cases, regions, imports],
        links=[
            (_("Outstanding decisions"), reverse("tenders:outstanding")),
            (_("Status report"), reverse("tenders:status_report")),
        ],
    )


# The page -----------------------------------------------------------------------------------


def sections_for(user, *, today: dt.date | None = None) -> list[Section]:
    """Every role's section for this user, officers and chiefs per region (by region code)."""
    if not permissions.can_view_internal_pages(user):
        return []
    today = today or timezone.localdate()
    memberships = list(
        Membership.objects.filter(user=user, region__active=True)
        .select_related("region")
        .order_by("region__code", "role")
    )
    sections: list[Section] = []
    if permissions.is_secretariat(user):
        sections.append(secretariat_section(today))
    for membership in memberships:
        if membership.role == Role.OFFICER:
            sections.append(officer_section(membership.region, today))
    for membership in memberships:
        if membership.role == Role.CHIEF:
            sections.append(chief_section(membership.region, today))
    if any(m.role == Role.UFO for m in memberships):
        sections.append(ufo_section(user))
    return sections
