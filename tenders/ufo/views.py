"""UFO pages (candidate areas, scoring, the chiefs' decisions) and the savings pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rfi import permissions
from rfi.cpv import category_by_code
from rfi.forms import apply_service_errors
from rfi.models import Category, Region
from tenders import savings, savings_reports, selectors, services
from tenders.models import (
    CandidateArea,
    PlanSettings,
    SavingsRecord,
    Score,
    ScoreSheet,
    ScoringCriterion,
    TenderCase,
)
from tenders.screening import VOLUME_CRITERION
from tenders.services import Decision
from tenders.ufo import screening as ufo_screening
from tenders.ufo.forms import (
    CandidateForm,
    DecisionForm,
    RecommendForm,
    RubricForm,
    SavingsForm,
    ScoreForm,
)

SAVINGS_GROUPS = ("tender", "region", "area", "year")


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _year_param(request) -> int | None:
    value = request.GET.get("year", "")
    return int(value) if value.isdigit() and 1900 < int(value) < 3000 else None


def _ranking_of(candidate: CandidateArea) -> selectors.CandidateRanking | None:
    for ranking in selectors.candidate_ranking(plan_year=candidate.plan_year):
        if ranking.candidate.pk == candidate.pk:
            return ranking
    return None


# Candidate areas -----------------------------------------------------------------------------


@permissions.require(permissions.can_view_internal_pages)
def candidates(request):
    """The candidates ranked by weighted mean, with spread, missing scorers and the annual cycle."""
    year = _year_param(request)
    cycle = selectors.annual_cycle()
    counts = cycle["counts"]
    context = {
        "rankings": selectors.candidate_ranking(plan_year=year),
        "year": year,
        "years": sorted(
            set(CandidateArea.objects.values_list("plan_year", flat=True)), reverse=True
        ),
        "cycle": cycle,
        "cycle_prepare_year": cycle["plan_year"] - 1,
        "next_plan_year": cycle["plan_year"] + 1,
        "next_due": dt.date(cycle["plan_year"], 3, 31),
        "cycle_counts": [
            (label, counts.get(value, 0)) for value, label in CandidateArea.Status.choices
        ],
        "can_propose": permissions.can_propose_candidate(request.user),
        "can_edit_rubric": permissions.can_edit_scoring_rubric(request.user),
    }
    return render(request, "tenders/ufo_candidates.html", context)


@permissions.require(permissions.can_propose_candidate)
def candidate_create(request):
    """Propose a candidate area; ``?category=&title=`` (e.g. from the off-contract spend page)
    fill the form, and the category's screening figures are shown and kept with the area."""
    initial = {
        name: request.GET[name][:300] for name in ("category", "title") if request.GET.get(name)
    }
    form = CandidateForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            candidate = services.candidate_create(
                actor=request.user,
                title=data["title"],
                category=data["category"],
                plan_year=data["plan_year"],
                description=data["description"],
                proposer_region=data["proposer_region"],
                screening=ufo_screening.snapshot_for_proposal(code=data["category"].code),
                annual_volume=data["annual_volume"],
                expected_reduction=data["expected_reduction"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The candidate area has been created."))
            return redirect("tenders:candidate", pk=candidate.pk)
    category = _category_of(form, initial.get("category"))
    screening = suggestion = None
    if category is not None:
        screening, suggestion = ufo_screening.screening_for(request.user, code=category.code)
    context = {
        "form": form,
        "screening_category": category,
        "screening": screening,
        "suggestion": suggestion,
    }
    return render(request, "tenders/ufo_candidate_form.html", context)


def _category_of(form: CandidateForm, typed: str | None) -> Category | None:
    """The category the form names: the valid posted one, else the one the link gave."""
    if form.is_bound:
        return form.cleaned_data.get("category") if hasattr(form, "cleaned_data") else None
    if not typed:
        return None
    try:
        return category_by_code(typed)
    except ValidationError:
        return None


def _history(candidate: CandidateArea) -> list[dict]:
    labels = {f.name: f.verbose_name for f in CandidateArea._meta.fields}
    records = list(candidate.history.select_related("history_user").order_by("-history_date"))
    entries = []
    for record in records:
        previous = record.prev_record
        changed = []
        if previous is not None:
            delta = record.diff_against(previous)
            changed = [str(labels.get(c.field, c.field)) for c in delta.changes]
        reason_given = record.recommendation_reason and (
            previous is None or previous.recommendation_reason != record.recommendation_reason
        )
        entries.append(
            {
                "date": record.history_date,
                "user": _person(record.history_user),
                "created": record.history_type == "+",
                "status": record.get_status_display(),
                "changed": changed,
                "reason": record.recommendation_reason if reason_given else "",
            }
        )
    return entries


@permissions.require(permissions.can_view_internal_pages)
def candidate_detail(request, pk: int):
    candidate = get_object_or_404(
        CandidateArea.objects.select_related(
            "category", "proposed_by", "proposer_region", "decided_by", "tender"
        ),
        pk=pk,
    )
    ranking = _ranking_of(candidate)
    sheet_means = ranking.sheet_means if ranking else {}
    sheets = (
        candidate.score_sheets.select_related("scorer", "other_body")
        .prefetch_related(
            Prefetch(
                "scores",
                queryset=Score.objects.select_related("criterion").order_by(
                    "criterion__order", "criterion__code"
                ),
            )
        )
        .order_by("scorer__username")
    )
    user = request.user
    figures, suggestion = ufo_screening.screening_for(user, code=candidate.category.code)
    at_proposal, proposal_suggestion = ufo_screening.proposal_figures(
        user, candidate.screening_at_proposal
    )
    in_screening = candidate.status == CandidateArea.Status.SCREENING
    missing = services.scorers_missing(candidate) if in_screening else []
    may_recommend = permissions.can_recommend_candidate(user, candidate) and in_screening
    context = {
        "candidate": candidate,
        "screening": figures,
        "suggestion": suggestion,
        "at_proposal": at_proposal,
        "proposal_suggestion": proposal_suggestion,
        "missing_scorers": [_person(m) for m in missing],
        "ranking": ranking,
        "sheets": [
            {
                "sheet": sheet,
                "scorer": _person(sheet.scorer),
                "mean": sheet_means.get(sheet.scorer.username),
            }
            for sheet in sheets
        ],
        "history": _history(candidate),
        "proposer": _person(candidate.proposed_by),
        "decider": _person(candidate.decided_by),
        "votes": _votes(candidate),
        "can_score": permissions.can_score_candidate(user, candidate)
        and candidate.status in (CandidateArea.Status.SCREENING, CandidateArea.Status.RECOMMENDED),
        # Once every active UFO member has scored; before that the secretariat, with a reason.
        "can_recommend": may_recommend and sheets.exists() and not missing,
        "can_recommend_with_reason": may_recommend
        and bool(missing)
        and sheets.exists()
        and permissions.can_recommend_before_all_scored(user, candidate),
        "recommend_form": RecommendForm(),
        "can_decide": permissions.can_decide_candidate(user, candidate)
        and candidate.status == CandidateArea.Status.RECOMMENDED,
        "decided": candidate.status
        in (
            CandidateArea.Status.APPROVED,
            CandidateArea.Status.REJECTED,
            CandidateArea.Status.POSTPONED,
        ),
    }
    return render(request, "tenders/ufo_candidate_detail.html", context)


@permissions.require(permissions.can_score_candidate)
def candidate_score(request, pk: int):
    """A UFO member's score sheet for one candidate: new, or their earlier one to change."""
    candidate = get_object_or_404(CandidateArea.objects.select_related("category"), pk=pk)
    if not permissions.can_score_candidate(request.user, candidate):
        raise PermissionDenied
    criteria = list(ScoringCriterion.objects.filter(active=True))
    sheet = ScoreSheet.objects.filter(candidate=candidate, scorer=request.user).first()
    is_open = candidate.status in (
        CandidateArea.Status.SCREENING,
        CandidateArea.Status.RECOMMENDED,
    )
    form = ScoreForm(request.POST or None, criteria=criteria, sheet=sheet)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.score_sheet_submit(
                candidate=candidate,
                scorer=request.user,
                scores=form.scores(),
                with_other_body=data["with_other_body"],
                other_body=data["other_body"],
                other_body_comment=data["other_body_comment"],
            )
        except ValidationError as error:
            apply_service_errors(form, error, field_map=form.error_map())
        else:
            messages.success(request, _("Your scores have been saved."))
            return redirect("tenders:candidate", pk=candidate.pk)
    _screening, suggestion = ufo_screening.screening_for(request.user, code=candidate.category.code)
    context = {
        "candidate": candidate,
        "form": form,
        "sheet": sheet,
        "is_open": is_open,
        "suggestion": suggestion,
        "volume_criterion": VOLUME_CRITERION,
    }
    return render(request, "tenders/ufo_candidate_score.html", context)


@require_POST
@permissions.require(permissions.can_recommend_candidate)
def candidate_recommend(request, pk: int):
    candidate = get_object_or_404(CandidateArea, pk=pk)
    form = RecommendForm(request.POST)
    form.is_valid()
    try:
        services.candidate_recommend(
            candidate=candidate, actor=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The candidate area has been recommended to the chiefs."))
    return redirect("tenders:candidate", pk=candidate.pk)


@permissions.require(permissions.can_edit_scoring_rubric)
def scoring_rubric(request):
    """The secretariat writes what each score 1–5 means for each active criterion."""
    criteria = list(ScoringCriterion.objects.filter(active=True))
    forms = [
        RubricForm(request.POST or None, criterion=criterion, prefix=criterion.code)
        for criterion in criteria
    ]
    if request.method == "POST" and all([form.is_valid() for form in forms]):
        try:
            services.scoring_rubrics_update(
                actor=request.user, rubrics={form.criterion: form.texts() for form in forms}
            )
        except services.RubricErrors as errors:
            for form in forms:
                if form.criterion.code in errors.by_criterion:
                    apply_service_errors(form, errors.by_criterion[form.criterion.code])
        else:
            messages.success(request, _("The scoring rubric has been saved."))
            return redirect("tenders:scoring_rubric")
    return render(request, "tenders/ufo_scoring_rubric.html", {"forms": forms})


def _votes(candidate: CandidateArea) -> list[dict]:
    """Each active region with its chief's vote, or none yet."""
    votes = {vote.region_id: vote for vote in candidate.votes.select_related("voted_by")}
    return [
        {"region": region, "vote": votes.get(region.pk)}
        for region in Region.objects.filter(active=True).order_by("code")
    ]


@permissions.require(permissions.can_decide_candidate)
def candidate_decide(request, pk: int):
    """Chiefs vote for their region; the secretariat records a meeting's decision."""
    candidate = get_object_or_404(CandidateArea.objects.select_related("category", "tender"), pk=pk)
    if not permissions.can_decide_candidate(request.user, candidate):
        raise PermissionDenied
    for_meeting = permissions.can_record_meeting_decision(request.user, candidate)
    suggestion = services.suggest_lead_region(category=candidate.category)
    is_open = candidate.status == CandidateArea.Status.RECOMMENDED
    initial = {"lead_region": suggestion.pk if suggestion else None}
    form = DecisionForm(
        request.POST or None, initial=initial, for_meeting=for_meeting, candidate=candidate
    )
    if request.method == "POST" and is_open and form.is_valid():
        data = form.cleaned_data
        try:
            candidate = services.candidate_decide(
                candidate=candidate,
                actor=request.user,
                decision=data["decision"],
                lead_region=data.get("lead_region"),
                reason=data["reason"],
                postpone_to_year=data["postpone_to_year"],
                meeting_date=data.get("meeting_date"),
                minutes_reference=data.get("minutes_reference", ""),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if candidate.status == CandidateArea.Status.APPROVED:
                messages.success(
                    request,
                    _("Approved: the tender case %(reference)s has been created.")
                    % {"reference": candidate.tender.reference},
                )
                return redirect("tenders:detail", reference=candidate.tender.reference)
            if candidate.status == CandidateArea.Status.RECOMMENDED:
                messages.success(request, _("Your region's vote has been recorded."))
            else:
                messages.success(request, _("The decision has been recorded."))
            return redirect("tenders:candidate", pk=candidate.pk)
    context = {
        "candidate": candidate,
        "form": form,
        "suggestion": suggestion,
        "is_open": is_open,
        "for_meeting": for_meeting,
        "ranking": _ranking_of(candidate),
        "votes": _votes(candidate),
        "outcome": services.decision_outcome(candidate),
        "rule": PlanSettings.current().get_decision_rule_display(),
        "decision_choices": Decision,
    }
    return render(request, "tenders/ufo_candidate_decide.html", context)


# Savings ---------------------------------------------------------------------------------------


def _percent(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else fraction * 100


@permissions.require(permissions.can_view_internal_pages)
def savings_edit(request, reference: str):
    """Record a region's saving on an awarded tender; list what the regions have recorded."""
    tender = get_object_or_404(
        TenderCase.objects.select_related("category", "lead_region", "lead_partner"),
        reference=reference,
    )
    allowed = permissions.regions_where(
        request.user, lambda user, region: permissions.can_record_savings(user, tender, region)
    )
    form = None
    if request.method == "POST":
        posted_pk = request.POST.get("region", "")
        posted = Region.objects.filter(pk=posted_pk).first() if posted_pk.isdigit() else None
        if not allowed or (
            posted is not None and not permissions.can_record_savings(request.user, tender, posted)
        ):
            raise PermissionDenied
        form = SavingsForm(request.POST, regions=allowed, tender=tender)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["stage"] == SavingsRecord.Stage.EXPECTED:
                    record = services.savings_expect(
                        tender=tender,
                        region=data["region"],
                        actor=request.user,
                        baseline_annual_cost=data["baseline_annual_cost"],
                        new_annual_cost=data["new_annual_cost"],
                        method=data["method"],
                    )
                else:
                    record = services.savings_record(
                        tender=tender,
                        region=data["region"],
                        actor=request.user,
                        baseline_annual_cost=data["baseline_annual_cost"],
                        new_annual_cost=data["new_annual_cost"],
                        method=data["method"],
                        contract_start=data["contract_start"],
                        contract_end=data["contract_end"],
                    )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The saving of %(region)s has been recorded.") % {"region": record.region},
                )
                return redirect("tenders:savings", reference=tender.reference)
    elif allowed:
        # Before award only the expected saving can be recorded: offer that stage first.
        stage = SavingsRecord.Stage.AWARDED if tender.award_date else SavingsRecord.Stage.EXPECTED
        form = SavingsForm(regions=allowed, initial={"stage": stage})
    records = tender.savings.select_related("tender", "region", "method", "recorded_by").order_by(
        "region__code", "stage"
    )
    today = timezone.localdate()
    compliance: dict = {}
    context = {
        "tender": tender,
        "form": form,
        "records": [
            {
                "record": r,
                "percent": _percent(r.price_reduction),
                "realisation": savings_reports.realisation_of(
                    r, today=today, compliance_cache=compliance
                ),
            }
            for r in records
        ],
        "awarded": tender.award_date is not None,
        "method": savings.realisation_method_text(),
    }
    return render(request, "tenders/savings_edit.html", context)


def _own_contract_label(record) -> str:
    """A region's own contract has no case: it is named by region, category and kind."""
    return _("%(region)s's own contract: %(code)s %(category)s (%(kind)s)") % {
        "region": record.region.name,
        "code": record.category.full_code,
        "category": record.category.label,
        "kind": record.get_kind_display(),
    }


def _group_label(group_by: str, key, tenders: dict, regions: dict, record=None) -> str:
    if key is None:
        return _("Unknown")
    if group_by == "tender" and record is not None and not record.tender_id:
        return _own_contract_label(record)
    if group_by == "tender":
        tender = tenders.get(key)
        return f"{key} {tender.title}" if tender else str(key)
    if group_by == "region":
        region = regions.get(key)
        return region.name if region else str(key)
    if group_by == "area":
        return str(TenderCase.Area(key).label) if key in TenderCase.Area.values else str(key)
    return str(key)


@permissions.require(permissions.can_view_internal_pages)
def savings_overview(request):
    """Annual savings rolled up by tender, region, area or year."""
    group_by = request.GET.get("by", "tender")
    if group_by not in SAVINGS_GROUPS:
        group_by = "tender"
    rows = selectors.savings_totals(group_by=group_by)
    tenders = (
        {t.reference: t for t in TenderCase.objects.filter(reference__in=[r["key"] for r in rows])}
        if group_by == "tender"
        else {}
    )
    regions = {r.code: r for r in Region.objects.all()}
    for row in rows:
        row["label"] = _group_label(group_by, row["key"], tenders, regions, row["record"])
        row["percent"] = _percent(row["price_reduction"])
        row["url"] = (
            reverse("tenders:savings", kwargs={"reference": row["key"]})
            if group_by == "tender" and row["record"].tender_id
            else ""
        )
    baseline = sum((r["baseline"] for r in rows), Decimal("0"))
    new = sum((r["new"] for r in rows), Decimal("0"))
    totals = {
        "expected": sum((r["expected"] for r in rows), Decimal("0")),
        "baseline": baseline,
        "new": new,
        "saving": baseline - new,
        "percent": (baseline - new) / baseline * 100 if baseline else None,
    }
    groups = [
        ("tender", _("tender case")),
        ("region", _("region")),
        ("area", _("area")),
        ("year", _("year of contract start")),
    ]
    context = {
        "rows": rows,
        "totals": totals,
        "group_by": group_by,
        "groups": groups,
        "group_label": dict(groups)[group_by],
    }
    return render(request, "tenders/savings_overview.html", context)
