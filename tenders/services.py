"""Every write to the joint tender plan: cases, participation, candidates, decisions, savings.

Each service checks the actor's rights through rfi.permissions, validates,
saves in one transaction (history rows come from django-simple-history with
the actor set), and returns what it changed. Errors are ValidationError with
field-specific messages, or PermissionDenied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rfi import permissions
from rfi.links import absolute_url
from rfi.models import Membership, Region
from rfi.reminders import Mail, reminders_send
from rfi.tasks import enqueue_on_commit
from rfi.validation import check_values, date_error, merge_errors, text_error
from tenders import selectors
from tenders.models import (
    SCORE_RANGE,
    AreaMapping,
    CandidateArea,
    CandidateVote,
    DeadlineReminder,
    OptOutReason,
    Participation,
    PlanSettings,
    SavingsMethod,
    SavingsPlan,
    SavingsRecord,
    Score,
    ScoreSheet,
    ScoringCriterion,
    TenderCase,
)

TENDER_FIELDS = (
    "title",
    "description",
    "category",
    "area",
    "kind",
    "has_options",
    "lead_region",
    "lead_partner",
    "status",
    "expected_tender_start",
    "publication_date",
    "award_date",
    "contract_start",
    "contract_end",
    "extension_until",
    "decision_deadline",
    "estimated_annual_value",
    "internal_notes",
    "is_publishable",
)
# suppliers' task that gives an awarded case's regions their own contracts, by name.
REGIONAL_CONTRACTS_TASK = "suppliers.regional_contracts_sync"
MILESTONE_ORDER = (
    ("publication_date", "award_date"),
    ("award_date", "contract_start"),
    ("contract_start", "contract_end"),
    ("contract_end", "extension_until"),
)


def _with_actor(obj, actor) -> None:
    # django-simple-history reads _history_user when the request middleware has no user
    # (management commands, Celery tasks, the API with token auth).
    obj._history_user = actor if actor and actor.is_authenticated else None


def _refuse_bad_values(errors: dict, *, texts: dict | None = None, dates: dict | None = None):
    """Add control-character and implausible-date errors for loose service arguments."""
    for name, text in (texts or {}).items():
        if text and (message := text_error(str(text), multiline=True)):
            errors.setdefault(name, []).append(message)
    for name, day in (dates or {}).items():
        if day and (message := date_error(day)):
            errors.setdefault(name, []).append(message)


# Tender cases -------------------------------------------------------------------------


def tender_validate(tender: TenderCase) -> None:
    """Refuse milestones out of order and a status they contradict."""
    errors: dict[str, list[str]] = {}
    labels = {f.name: f.verbose_name for f in TenderCase._meta.fields}
    for earlier, later in MILESTONE_ORDER:
        first, second = getattr(tender, earlier), getattr(tender, later)
        if first and second and second < first:
            errors.setdefault(later, []).append(
                _("%(later)s (%(second)s) cannot be before %(earlier)s (%(first)s).")
                % {
                    "later": str(labels[later]).capitalize(),
                    "second": second.strftime("%d-%m-%Y"),
                    "earlier": labels[earlier],
                    "first": first.strftime("%d-%m-%Y"),
                }
            )
    status = TenderCase.Status
    needs = {
        status.IN_TENDER: ("publication_date",),
        status.IN_CONTRACT: ("award_date", "contract_start"),
        status.ENDED: ("contract_end",),
    }
    for field in needs.get(tender.status, ()):
        if getattr(tender, field) is None:
            errors.setdefault("status", []).append(
                _("Status “%(status)s” needs the milestone “%(milestone)s”.")
                % {"status": tender.get_status_display(), "milestone": labels[field]}
            )
    if tender.status == status.PLANNED and tender.award_date:
        errors.setdefault("status", []).append(
            _("A tender with an award date is no longer planned.")
        )
    if bool(tender.lead_region_id) == bool(tender.lead_partner_id):
        errors.setdefault("lead_region", []).append(
            _("Choose a lead region or a lead partner body (one of them).")
        )
    merge_errors(errors, tender)
    if errors:
        raise ValidationError(errors)


def _next_reference(year: int) -> str:
    prefix = f"FUP-{year}-"
    last = TenderCase.objects.filter(reference__startswith=prefix).aggregate(last=Max("reference"))[
        "last"
    ]
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:03d}"


@transaction.atomic
def tender_create(*, actor, reference: str | None = None, **fields) -> TenderCase:
    """Log a new tender case; every active region starts as pending."""
    if not permissions.can_create_tender(actor):
        raise PermissionDenied(_("You may not log tender cases."))
    unknown = set(fields) - set(TENDER_FIELDS)
    if unknown:
        raise TypeError(f"unknown tender fields: {sorted(unknown)}")
    if not fields.get("area") and fields.get("category") is not None:
        fields["area"] = area_of(fields["category"])  # no choice made: the suggestion
    tender = TenderCase(**fields)
    if not permissions.can_lead_tender_as(actor, tender.lead_region):
        raise PermissionDenied(_("Officers log cases that their own region leads."))
    tender_validate(tender)
    tender.reference = reference or _next_reference(timezone.localdate().year)
    _with_actor(tender, actor)
    try:
        with transaction.atomic():
            tender.save()
    except IntegrityError as exc:
        raise ValidationError({"reference": _("The reference is already in use.")}) from exc
    for region in Region.objects.filter(active=True):
        participation = Participation(tender=tender, region=region)
        _with_actor(participation, actor)
        participation.save()
    return tender


@transaction.atomic
def tender_update(*, tender: TenderCase, actor, **fields) -> TenderCase:
    """Change a case: the lead region's officers and the secretariat."""
    if not permissions.can_edit_tender(actor, tender):
        raise PermissionDenied(_("Only the lead region's officers and the secretariat edit it."))
    unknown = set(fields) - set(TENDER_FIELDS)
    if unknown:
        raise TypeError(f"unknown tender fields: {sorted(unknown)}")
    if "area" in fields and not fields["area"]:
        fields["area"] = area_of(fields.get("category") or tender.category)
    for name, value in fields.items():
        setattr(tender, name, value)
    if "lead_region" in fields and not permissions.can_lead_tender_as(actor, tender.lead_region):
        raise PermissionDenied(_("Officers cannot hand the lead to another region."))
    tender_validate(tender)
    _with_actor(tender, actor)
    tender.save()
    return tender


# Participation: follow or explain -------------------------------------------------------


@dataclass
class Proposal:
    """A suggestion shown to the user beside an accepted or refused decision."""

    message: str
    status: str


def participation_decide(
    *,
    participation: Participation,
    actor,
    status: str,
    reason: OptOutReason | None = None,
    justification: str = "",
    existing_contract_end: dt.date | None = None,
    option_expected_join: dt.date | None = None,
    estimated_annual_value: Decimal | None = None,
) -> Participation:
    """Record a region's decision: full, on an option, or opted out with a justification."""
    if not permissions.can_set_participation(actor, participation):
        raise PermissionDenied(_("You may set only your own region's participation."))
    justification = (justification or "").strip()
    participation_decision_check(
        participation=participation,
        status=status,
        reason=reason,
        justification=justification,
        existing_contract_end=existing_contract_end,
        option_expected_join=option_expected_join,
    )
    statuses = Participation.Status

    participation.status = status
    opted_out = status == statuses.OPTED_OUT
    participation.opt_out_reason = reason if opted_out else None
    participation.justification = justification if opted_out else ""
    participation.existing_contract_end = existing_contract_end if opted_out else None
    is_option = status == statuses.OPTION
    participation.option_expected_join = option_expected_join if is_option else None
    if not is_option:
        participation.option_exercised_on = None
    if estimated_annual_value is not None:
        participation.estimated_annual_value = estimated_annual_value
    participation.decided_by = actor
    participation.decided_at = timezone.now()
    _with_actor(participation, actor)
    participation.save()
    if participation.tender.award_date and status == statuses.FULL:
        # A region joining in full after the award gets its own contract too.
        enqueue_on_commit(REGIONAL_CONTRACTS_TASK, participation.tender.pk)
    return participation


def participation_decision_check(
    *,
    participation: Participation,
    status: str,
    reason: OptOutReason | None = None,
    justification: str = "",
    existing_contract_end: dt.date | None = None,
    option_expected_join: dt.date | None = None,
) -> None:
    """Every problem with a decision at once (a ValidationError by field); writes nothing.

    The form runs it beside its own field checks, so one submit shows every error.
    """
    statuses = Participation.Status
    if status not in statuses.values:
        raise ValidationError({"status": _("Unknown participation: %(s)s") % {"s": status}})
    tender = participation.tender
    errors: dict[str, list[str]] = {}
    justification = (justification or "").strip()
    if status == statuses.OPTED_OUT:
        minimum = PlanSettings.current().min_justification_length
        if reason is None:
            errors["opt_out_reason"] = [_("Follow or explain: choose the reason for opting out.")]
        if len(justification) < minimum:
            errors["justification"] = [
                _(
                    "Follow or explain: an opt-out needs a written justification of at least "
                    "%(min)d characters (%(n)d given)."
                )
                % {"min": minimum, "n": len(justification)}
            ]
        if reason is not None and reason.asks_contract_end and existing_contract_end is None:
            errors["existing_contract_end"] = [_("Give the end date of the existing contract.")]
    if status == statuses.OPTION:
        if not tender.has_options:
            errors["status"] = [_("This tender carries no options for later joining.")]
        if option_expected_join is None:
            errors["option_expected_join"] = [
                _("Give the date the region expects to be able to join.")
            ]
    if status == statuses.PENDING:
        errors["status"] = [_("A decision cannot be set back to pending.")]
    _refuse_bad_values(
        errors,
        texts={"justification": justification},
        dates={
            "existing_contract_end": existing_contract_end,
            "option_expected_join": option_expected_join,
        },
    )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def participation_add(*, tender: TenderCase, region: Region, actor) -> Participation:
    """The region's participation in the case, created pending if it has none yet (a
    region activated after the case was logged)."""
    participation = Participation.objects.filter(tender=tender, region=region).first()
    if participation is not None:
        return participation
    participation = Participation(tender=tender, region=region)
    if not (
        permissions.can_edit_tender(actor, tender)
        or permissions.can_set_participation(actor, participation)
    ):
        raise PermissionDenied(_("You may set only your own region's participation."))
    _with_actor(participation, actor)
    participation.save()
    return participation


def participation_estimate(
    *, participation: Participation, actor, estimated_annual_value: Decimal | None
) -> Participation:
    """Change only the region's estimated annual value (also while it has not decided)."""
    if not permissions.can_set_participation(actor, participation):
        raise PermissionDenied(_("You may set only your own region's participation."))
    if estimated_annual_value is not None and estimated_annual_value < 0:
        raise ValidationError({"estimated_annual_value": _("The amount cannot be negative.")})
    participation.estimated_annual_value = estimated_annual_value
    _with_actor(participation, actor)
    participation.save()
    return participation


def participation_proposal(
    *, participation: Participation, reason: OptOutReason | None, existing_contract_end
) -> Proposal | None:
    """An existing contract suggests option participation rather than opting out."""
    if reason is None or not reason.asks_contract_end or not participation.tender.has_options:
        return None
    when = existing_contract_end.strftime("%d-%m-%Y") if existing_contract_end else ""
    return Proposal(
        message=_(
            "The tender carries options: instead of opting out, the region can join on an "
            "option when its existing contract ends %(date)s."
        )
        % {"date": when},
        status=Participation.Status.OPTION,
    )


def participation_exercise_option(
    *, participation: Participation, actor, exercised_on: dt.date
) -> Participation:
    """An option participant joins the framework; the date is recorded."""
    if not permissions.can_set_participation(actor, participation):
        raise PermissionDenied(_("You may set only your own region's participation."))
    if participation.status != Participation.Status.OPTION:
        raise ValidationError({"status": _("Only a region on an option can exercise it.")})
    if participation.option_exercised_on:
        raise ValidationError({"option_exercised_on": _("The option has already been exercised.")})
    errors: dict[str, list[str]] = {}
    _refuse_bad_values(errors, dates={"option_exercised_on": exercised_on})
    if errors:
        raise ValidationError(errors)
    participation.option_exercised_on = exercised_on
    _with_actor(participation, actor)
    participation.save()
    # The region's own contract of an awarded case (suppliers/regional.py), asked for by
    # name: tenders never imports suppliers.
    enqueue_on_commit(REGIONAL_CONTRACTS_TASK, participation.tender_id)
    return participation


# UFO: candidates, scores, recommendation, decision ----------------------------------------


@transaction.atomic
def candidate_create(
    *,
    actor,
    title,
    category,
    plan_year,
    description="",
    proposer_region=None,
    screening: dict | None = None,
    annual_volume: Decimal | None = None,
    expected_reduction: Decimal | None = None,
):
    """Propose a candidate area; ``screening``: the ledger's figures when it was proposed;
    the UFO figures (volume, expected reduction) are optional."""
    if not permissions.can_propose_candidate(actor):
        raise PermissionDenied(_("You may not propose candidate areas."))
    candidate = CandidateArea(
        title=title,
        category=category,
        plan_year=plan_year,
        description=description,
        proposed_by=actor,
        proposer_region=proposer_region,
        screening_at_proposal=screening,
        annual_volume=annual_volume,
        expected_reduction=expected_reduction,
    )
    candidate.full_clean(exclude=["proposed_by"])
    check_values(candidate)
    _with_actor(candidate, actor)
    candidate.save()
    return candidate


@transaction.atomic
def score_sheet_submit(
    *,
    candidate: CandidateArea,
    scorer,
    scores: dict[str, tuple[int, str]],
    with_other_body: str = ScoreSheet.OtherBody.NO,
    other_body=None,
    other_body_comment: str = "",
) -> ScoreSheet:
    """A UFO member scores every active criterion 1–5 with a comment; resubmitting replaces."""
    if not permissions.can_score_candidate(scorer, candidate):
        raise PermissionDenied(_("Only UFO members score candidate areas."))
    if candidate.status not in (CandidateArea.Status.SCREENING, CandidateArea.Status.RECOMMENDED):
        raise ValidationError(_("The candidate area has been decided; scores are closed."))
    criteria = list(ScoringCriterion.objects.filter(active=True))
    errors = {}
    for criterion in criteria:
        value = scores.get(criterion.code, (None, ""))[0]
        if value is None or not (1 <= int(value) <= 5):
            errors[criterion.code] = [_("Score “%(c)s” from 1 to 5.") % {"c": criterion.label}]
    if with_other_body not in ScoreSheet.OtherBody.values:
        errors["with_other_body"] = [_("Answer yes, no or worth examining.")]
    _refuse_bad_values(
        errors,
        texts={
            "other_body_comment": other_body_comment,
            **{code: (value[1] or "") for code, value in scores.items()},
        },
    )
    if errors:
        raise ValidationError(errors)
    sheet, _created = ScoreSheet.objects.get_or_create(candidate=candidate, scorer=scorer)
    sheet.with_other_body = with_other_body
    sheet.other_body = other_body
    sheet.other_body_comment = other_body_comment
    _with_actor(sheet, scorer)
    sheet.save()
    # Scores change in place (each change kept in the history), never deleted and re-made.
    existing = {score.criterion_id: score for score in sheet.scores.all()}
    for criterion in criteria:
        value, comment = int(scores[criterion.code][0]), scores[criterion.code][1] or ""
        score = existing.pop(criterion.pk, None) or Score(sheet=sheet, criterion=criterion)
        if score.pk and (score.value, score.comment) == (value, comment):
            continue
        score.value, score.comment = value, comment
        _with_actor(score, scorer)
        score.save()
    for retired in existing.values():  # criteria no longer active
        _with_actor(retired, scorer)
        retired.delete()
    return sheet


def scorers_missing(candidate: CandidateArea) -> list:
    """The active UFO members who have not submitted a score sheet for the candidate."""
    scored = set(candidate.score_sheets.values_list("scorer_id", flat=True))
    return [member for member in selectors.ufo_members() if member.pk not in scored]


@transaction.atomic
def candidate_recommend(*, candidate: CandidateArea, actor, reason: str = "") -> CandidateArea:
    """Recommend a scored candidate to the chiefs once every active UFO member has scored.

    Before that only the secretariat may recommend, and only with a stated reason, which
    is kept on the candidate (and so in its history).
    """
    if not permissions.can_recommend_candidate(actor, candidate):
        raise PermissionDenied(_("Only the UFO group recommends candidate areas."))
    if candidate.status != CandidateArea.Status.SCREENING:
        raise ValidationError(_("Only a candidate being scored can be recommended."))
    if not candidate.score_sheets.exists():
        raise ValidationError(_("Score the candidate before recommending it."))
    reason = (reason or "").strip()
    missing = scorers_missing(candidate)
    if missing:
        names = ", ".join(m.get_full_name() or m.get_username() for m in missing)
        if not permissions.can_recommend_before_all_scored(actor, candidate):
            raise ValidationError(
                ngettext(
                    "Every UFO member must score before the area is recommended; "
                    "%(count)d has not: %(names)s.",
                    "Every UFO member must score before the area is recommended; "
                    "%(count)d have not: %(names)s.",
                    len(missing),
                )
                % {"count": len(missing), "names": names}
            )
        if not reason:
            raise ValidationError(
                {
                    "reason": _(
                        "Give the reason for recommending before every UFO member has "
                        "scored (still missing: %(names)s)."
                    )
                    % {"names": names}
                }
            )
        errors: dict = {}
        _refuse_bad_values(errors, texts={"reason": reason})
        if errors:
            raise ValidationError(errors)
        candidate.recommendation_reason = reason
    candidate.status = CandidateArea.Status.RECOMMENDED
    candidate.recommended_at = timezone.now()
    _with_actor(candidate, actor)
    candidate.save()
    return candidate


RUBRIC_TEXT_MAX = 500


@transaction.atomic
def scoring_rubric_update(
    *, actor, criterion: ScoringCriterion, texts: dict[int, tuple[str, str]]
) -> ScoringCriterion:
    """Set what each score 1–5 means for a criterion: {score: (Danish, English)}.

    The Danish text is required for every score (the form shows it to every scorer); the
    English one may be left empty (then Danish is shown). Kept in the criterion's history.
    """
    if not permissions.can_edit_scoring_rubric(actor):
        raise PermissionDenied(_("Only the secretariat edits the scoring rubric."))
    errors: dict = {}
    rubric = {}
    for score in SCORE_RANGE:
        danish, english = (part.strip() for part in texts.get(score, ("", "")))
        for language, text in (("da", danish), ("en", english)):
            name = f"{language}_{score}"
            if language == "da" and not text:
                errors.setdefault(name, []).append(
                    _("Say what a score of %(score)d means.") % {"score": score}
                )
            elif len(text) > RUBRIC_TEXT_MAX:
                errors.setdefault(name, []).append(
                    _("At most %(max)d characters.") % {"max": RUBRIC_TEXT_MAX}
                )
            elif text and (message := text_error(text, multiline=False)):
                errors.setdefault(name, []).append(message)
        rubric[str(score)] = {"da": danish, "en": english}
    if errors:
        raise ValidationError(errors)
    if rubric != criterion.rubric:
        criterion.rubric = rubric
        _with_actor(criterion, actor)
        criterion.save(update_fields=["rubric"])
    return criterion


class RubricErrors(ValidationError):
    """The rubric page's errors: criterion code → that criterion's ValidationError."""

    def __init__(self, by_criterion: dict[str, ValidationError]):
        self.by_criterion = by_criterion
        super().__init__([m for e in by_criterion.values() for m in e.messages])


@transaction.atomic
def scoring_rubrics_update(
    *, actor, rubrics: dict[ScoringCriterion, dict[int, tuple[str, str]]]
) -> None:
    """The rubric page: every criterion's texts saved together, or none (RubricErrors)."""
    errors = {}
    for criterion, texts in rubrics.items():
        try:
            scoring_rubric_update(actor=actor, criterion=criterion, texts=texts)
        except ValidationError as error:
            errors[criterion.code] = error
    if errors:
        transaction.set_rollback(True)
        raise RubricErrors(errors)


def suggest_lead_region(*, category) -> Region | None:
    """The region that has led most tenders in the same CPV group (first three digits)."""
    counts = (
        TenderCase.objects.filter(
            category__code__startswith=category.code[:3], lead_region__active=True
        )
        .values("lead_region")
        .annotate(n=Count("id"))
        .order_by("-n", "lead_region__code")
    )
    first = counts.first()
    return Region.objects.get(pk=first["lead_region"]) if first else None


def area_mappings() -> dict[str, str]:
    """CPV prefix → area, as the secretariat keeps them (AreaMapping)."""
    return dict(AreaMapping.objects.values_list("prefix", "area"))


def area_for_code(code: str, mappings: dict[str, str] | None = None) -> str:
    """The suggested area of a CPV code: the longest mapped prefix wins.

    A code no prefix matches is goods and services (medico and acquisitions is the
    specific area: medico-technical equipment and investments).
    """
    mappings = area_mappings() if mappings is None else mappings
    code = (code or "").split("-", 1)[0]
    for length in range(len(code), 1, -1):
        area = mappings.get(code[:length])
        if area:
            return area
    return TenderCase.Area.GOODS_SERVICES


def area_of(category) -> str:
    """The suggested area of a case in ``category`` (AreaMapping, longest prefix wins).

    A suggestion only: the officer chooses the case's area and it is stored on the case.
    """
    return area_for_code(category.code)


class Decision:
    APPROVE = "approve"
    REJECT = "reject"
    POSTPONE = "postpone"
    CHOICES = (APPROVE, REJECT, POSTPONE)


def _approved_case(candidate: CandidateArea, *, lead_region: Region | None, actor) -> TenderCase:
    """The tender case an approved area becomes: in its target plan year, with a deadline."""
    plan_settings = PlanSettings.current()
    lead_region = (
        lead_region
        or suggest_lead_region(category=candidate.category)
        or candidate.proposer_region
        or Region.objects.filter(active=True).order_by("code").first()
    )
    today = timezone.localdate()
    tender = TenderCase(
        reference=_next_reference(candidate.plan_year),
        title=candidate.title,
        description=candidate.description,
        category=candidate.category,
        area=area_of(candidate.category),
        kind=TenderCase.Kind.FRAMEWORK,
        has_options=True,
        lead_region=lead_region,
        expected_tender_start=max(dt.date(candidate.plan_year, 1, 1), today),
        decision_deadline=today + dt.timedelta(days=plan_settings.participation_round_days),
    )
    _with_actor(tender, actor)
    tender.save()
    for region in Region.objects.filter(active=True):
        participation = Participation(tender=tender, region=region)
        _with_actor(participation, actor)
        participation.save()
    return tender


def _decision_errors(errors: dict, decision: str, reason: str, postpone_to_year, candidate):
    """Every problem with a decision's reason and year, added to ``errors`` by field."""
    if decision not in Decision.CHOICES:
        errors.setdefault("decision", []).append(_("Approve, reject or postpone."))
        return
    if error := text_error(reason or "", multiline=True):
        errors.setdefault("reason", []).append(error)
    elif decision == Decision.REJECT and not (reason or "").strip():
        errors.setdefault("reason", []).append(_("Give the reason for rejecting."))
    if decision == Decision.POSTPONE:
        if not postpone_to_year or postpone_to_year <= candidate.plan_year - 1:
            errors.setdefault("postpone_to_year", []).append(_("Give the year to postpone to."))
        if not (reason or "").strip() and "reason" not in errors:
            errors.setdefault("reason", []).append(_("Give the reason for postponing."))


def _check_decision(decision: str, reason: str, postpone_to_year, candidate) -> None:
    errors: dict[str, list[str]] = {}
    _decision_errors(errors, decision, reason, postpone_to_year, candidate)
    if errors:
        raise ValidationError(errors)


def _meeting_errors(errors: dict, meeting_date, minutes_reference: str) -> None:
    if meeting_date is None:
        errors["meeting_date"] = [_("Give the date of the chiefs' meeting.")]
    if not (minutes_reference or "").strip():
        errors["minutes_reference"] = [_("Give the reference to the meeting's minutes.")]
    _refuse_bad_values(
        errors, texts={"minutes_reference": minutes_reference}, dates={"meeting_date": meeting_date}
    )


def candidate_decision_check(
    *,
    candidate: CandidateArea,
    decision: str,
    reason: str = "",
    postpone_to_year: int | None = None,
    for_meeting: bool = False,
    meeting_date: dt.date | None = None,
    minutes_reference: str = "",
) -> None:
    """Every problem with a chief's vote or a meeting's decision at once; writes nothing."""
    errors: dict[str, list[str]] = {}
    _decision_errors(errors, decision, reason, postpone_to_year, candidate)
    if for_meeting:
        _meeting_errors(errors, meeting_date, minutes_reference)
    if errors:
        raise ValidationError(errors)


def _conclude(
    candidate: CandidateArea,
    *,
    decision: str,
    actor,
    reason: str,
    lead_region: Region | None = None,
    postpone_to_year: int | None = None,
) -> CandidateArea:
    if decision == Decision.APPROVE:
        candidate.tender = _approved_case(candidate, lead_region=lead_region, actor=actor)
        candidate.status = CandidateArea.Status.APPROVED
        savings_expected_from_candidate(candidate=candidate, tender=candidate.tender, actor=actor)
    elif decision == Decision.REJECT:
        candidate.status = CandidateArea.Status.REJECTED
    else:
        candidate.status = CandidateArea.Status.POSTPONED
        candidate.postponed_to_year = postpone_to_year
    candidate.decision_reason = reason.strip()
    candidate.decided_by = actor
    candidate.decided_at = timezone.now()
    _with_actor(candidate, actor)
    candidate.save()
    return candidate


@dataclass
class Outcome:
    """What the votes cast so far decide under the collaboration's decision rule."""

    decision: str | None  # None: not decided yet
    votes: dict[str, int]
    waiting_for: list[Region]
    reason: str = ""
    postpone_to_year: int | None = None


def decision_outcome(candidate: CandidateArea) -> Outcome:
    """Unanimity: one rejection decides; approval needs every active region; otherwise,
    once all have voted, the area is postponed. Majority: more than half of the active
    regions approve, or reject; once all have voted without a majority, it is postponed.
    Every reason is kept in the decision's reason, region by region."""
    active = list(Region.objects.filter(active=True).order_by("code"))
    votes = {v.region_id: v for v in candidate.votes.select_related("region")}
    cast = [votes[r.pk] for r in active if r.pk in votes]
    counts = {choice: sum(v.decision == choice for v in cast) for choice in Decision.CHOICES}
    waiting = [r for r in active if r.pk not in votes]
    reasons = "\n".join(f"{v.region.code}: {v.reason.strip()}" for v in cast if v.reason.strip())
    later = max((v.postpone_to_year or 0 for v in cast), default=0) or candidate.plan_year + 1
    rule = PlanSettings.current().decision_rule
    decision = None
    if rule == PlanSettings.DecisionRule.MAJORITY:
        if counts[Decision.APPROVE] * 2 > len(active):
            decision = Decision.APPROVE
        elif counts[Decision.REJECT] * 2 > len(active):
            decision = Decision.REJECT
        elif not waiting:
            decision = Decision.POSTPONE
    elif counts[Decision.REJECT]:
        decision = Decision.REJECT
    elif not waiting:
        decision = (
            Decision.APPROVE if counts[Decision.APPROVE] == len(active) else Decision.POSTPONE
        )
    return Outcome(decision, counts, waiting, reasons, later)


@transaction.atomic
def candidate_vote(
    *,
    candidate: CandidateArea,
    actor,
    decision: str,
    region: Region | None = None,
    reason: str = "",
    postpone_to_year: int | None = None,
) -> CandidateArea:
    """A chief records the region's vote; the area is decided when the rule is met."""
    if region is None:
        chief_of = permissions.regions_with_role(actor, permissions.Role.CHIEF)
        if len(chief_of) != 1:
            raise ValidationError({"region": _("Choose the region you vote for.")})
        region = Region.objects.get(pk=next(iter(chief_of)))
    if not permissions.can_vote_candidate(actor, region):
        raise PermissionDenied(_("Only the region's procurement chief casts its vote."))
    candidate = CandidateArea.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != CandidateArea.Status.RECOMMENDED:
        raise ValidationError(_("Only a recommended candidate area can be decided."))
    _check_decision(decision, reason, postpone_to_year, candidate)
    vote = CandidateVote.objects.filter(candidate=candidate, region=region).first()
    vote = vote or CandidateVote(candidate=candidate, region=region)
    vote.decision = decision
    vote.reason = (reason or "").strip()
    vote.postpone_to_year = postpone_to_year if decision == Decision.POSTPONE else None
    vote.voted_by = actor
    vote.voted_at = timezone.now()
    _with_actor(vote, actor)
    vote.save()
    outcome = decision_outcome(candidate)
    if outcome.decision is None:
        return candidate
    return _conclude(
        candidate,
        decision=outcome.decision,
        actor=actor,
        reason=outcome.reason,
        postpone_to_year=outcome.postpone_to_year,
    )


@transaction.atomic
def candidate_decide(
    *,
    candidate: CandidateArea,
    actor,
    decision: str,
    lead_region: Region | None = None,
    reason: str = "",
    postpone_to_year: int | None = None,
    meeting_date: dt.date | None = None,
    minutes_reference: str = "",
) -> CandidateArea:
    """The chiefs decide together.

    A chief's call records the region's vote (``candidate_vote``); the secretariat records
    a meeting's decision on everyone's behalf, with the meeting date and minutes reference.
    """
    if not permissions.can_decide_candidate(actor, candidate):
        raise PermissionDenied(_("Only the procurement chiefs decide on candidate areas."))
    if not permissions.can_record_meeting_decision(actor, candidate):
        return candidate_vote(
            candidate=candidate,
            actor=actor,
            decision=decision,
            reason=reason,
            postpone_to_year=postpone_to_year,
        )
    if candidate.status != CandidateArea.Status.RECOMMENDED:
        raise ValidationError(_("Only a recommended candidate area can be decided."))
    candidate_decision_check(
        candidate=candidate,
        decision=decision,
        reason=reason,
        postpone_to_year=postpone_to_year,
        for_meeting=True,
        meeting_date=meeting_date,
        minutes_reference=minutes_reference,
    )
    candidate.meeting_date = meeting_date
    candidate.minutes_reference = minutes_reference.strip()
    return _conclude(
        candidate,
        decision=decision,
        actor=actor,
        reason=reason,
        lead_region=lead_region,
        postpone_to_year=postpone_to_year,
    )


def chief_votes_waiting(user) -> list[CandidateArea]:
    """Recommended areas on which one of the user's chief regions has not voted yet."""
    regions = permissions.regions_with_role(user, permissions.Role.CHIEF)
    if not regions:
        return []
    return [
        candidate
        for candidate in CandidateArea.objects.filter(
            status=CandidateArea.Status.RECOMMENDED
        ).prefetch_related("votes")
        if regions - {vote.region_id for vote in candidate.votes.all()}
    ]


def vote_reminders_send(*, today: dt.date | None = None, days_before: int = 3) -> int:
    """Mail the chiefs who have not voted, a few days before the meeting date."""
    today = today or timezone.localdate()
    candidates = CandidateArea.objects.filter(
        status=CandidateArea.Status.RECOMMENDED,
        meeting_date=today + dt.timedelta(days=days_before),
    ).prefetch_related("votes")
    due = [
        (candidate, membership)
        for candidate in candidates
        for membership in Membership.objects.filter(
            role=Membership.Role.CHIEF, region__active=True, user__is_active=True
        )
        .exclude(region_id__in={vote.region_id for vote in candidate.votes.all()})
        .select_related("user", "region")
        if membership.user.email
    ]

    def mails(item) -> list[Mail]:
        candidate, membership = item
        values = {
            "title": candidate.title,
            "date": candidate.meeting_date.strftime("%d-%m-%Y"),
            "region": membership.region.name,
            "url": absolute_url(reverse("tenders:candidate_decide", args=[candidate.pk])),
        }
        subject = _("Your vote on %(title)s is due before %(date)s") % {
            "title": values["title"],
            "date": values["date"],
        }
        body = (
            _(
                "The chiefs decide on the recommended area %(title)s at the meeting "
                "%(date)s. %(region)s has not voted yet: %(url)s"
            )
            % values
        )
        return [Mail(subject, body, [membership.user.email])]

    return reminders_send(
        due=due,
        mails=mails,
        describe=lambda item: f"vote reminder for {item[0].title} to {item[1].user.email}",
    )


# Savings --------------------------------------------------------------------------------


@transaction.atomic
def savings_record(
    *,
    tender: TenderCase,
    region: Region,
    actor,
    baseline_annual_cost: Decimal,
    new_annual_cost: Decimal,
    method: SavingsMethod,
    contract_start: dt.date | None = None,
    contract_end: dt.date | None = None,
) -> SavingsRecord:
    """Record (or correct) a region's saving on an awarded tender."""
    if not permissions.can_record_savings(actor, tender, region):
        raise PermissionDenied(_("You may record savings only for your own region."))
    savings_check(
        tender=tender,
        baseline_annual_cost=baseline_annual_cost,
        new_annual_cost=new_annual_cost,
        contract_start=contract_start,
        contract_end=contract_end,
    )
    stage = SavingsRecord.Stage.AWARDED
    record = SavingsRecord.objects.filter(
        tender=tender, region=region, stage=stage
    ).first() or SavingsRecord(tender=tender, region=region, stage=stage, recorded_by=actor)
    record.baseline_annual_cost = baseline_annual_cost
    record.new_annual_cost = new_annual_cost
    record.method = method
    record.contract_start = contract_start or tender.contract_start
    record.contract_end = contract_end or tender.contract_end
    record.recorded_by = actor
    _with_actor(record, actor)
    record.save()
    return record


def savings_check(
    *,
    tender: TenderCase,
    baseline_annual_cost: Decimal | None,
    new_annual_cost: Decimal | None,
    contract_start: dt.date | None = None,
    contract_end: dt.date | None = None,
) -> None:
    """Every problem with a saving on an awarded tender at once; writes nothing."""
    errors = {}
    if tender.award_date is None:
        errors["tender"] = [_("Savings are recorded after award.")]
    _savings_amount_errors(errors, baseline_annual_cost, new_annual_cost)
    if contract_start and contract_end and contract_end < contract_start:
        errors["contract_end"] = [_("The contract cannot end before it starts.")]
    _refuse_bad_values(
        errors, dates={"contract_start": contract_start, "contract_end": contract_end}
    )
    if errors:
        raise ValidationError(errors)


def savings_expect_check(
    *, baseline_annual_cost: Decimal | None, new_annual_cost: Decimal | None
) -> None:
    """Every problem with an expected saving's amounts at once; writes nothing."""
    errors: dict = {}
    _savings_amount_errors(errors, baseline_annual_cost, new_annual_cost)
    if errors:
        raise ValidationError(errors)


def _savings_amount_errors(errors: dict, baseline_annual_cost, new_annual_cost) -> None:
    if baseline_annual_cost is None or baseline_annual_cost <= 0:
        errors["baseline_annual_cost"] = [_("The baseline annual cost must be above zero.")]
    if new_annual_cost is None or new_annual_cost < 0:
        errors["new_annual_cost"] = [_("The new annual cost cannot be negative.")]


@transaction.atomic
def savings_record_regional(
    *,
    actor,
    region: Region,
    category,
    kind: str,
    baseline_annual_cost: Decimal,
    new_annual_cost: Decimal,
    method: SavingsMethod,
    contract_start: dt.date,
    contract_end: dt.date | None = None,
) -> SavingsRecord:
    """Record (or correct) the awarded saving on a region's own contract.

    A region's own contract is known by its category, kind and start: recording the same
    again corrects the record instead of adding a second one.
    """
    if not permissions.can_record_savings(actor, None, region):
        raise PermissionDenied(_("You may record savings only for your own region."))
    errors: dict = {}
    if category is None:
        errors["category"] = [_("A region's own contract needs a category.")]
    if kind not in SavingsRecord.Kind.values:
        errors["kind"] = [_("The kind is framework agreement or one-off purchase.")]
    if contract_start is None:
        errors["contract_start"] = [_("A region's own contract needs a start date.")]
    _savings_amount_errors(errors, baseline_annual_cost, new_annual_cost)
    if contract_start and contract_end and contract_end < contract_start:
        errors["contract_end"] = [_("The contract cannot end before it starts.")]
    _refuse_bad_values(
        errors, dates={"contract_start": contract_start, "contract_end": contract_end}
    )
    if errors:
        raise ValidationError(errors)
    stage = SavingsRecord.Stage.AWARDED
    record = SavingsRecord.objects.filter(
        tender__isnull=True,
        region=region,
        category=category,
        kind=kind,
        contract_start=contract_start,
        stage=stage,
    ).first() or SavingsRecord(
        region=region,
        category=category,
        kind=kind,
        contract_start=contract_start,
        stage=stage,
        recorded_by=actor,
    )
    record.baseline_annual_cost = baseline_annual_cost
    record.new_annual_cost = new_annual_cost
    record.method = method
    record.contract_end = contract_end
    _with_actor(record, actor)
    record.save()
    return record


ESTIMATE_METHOD = "estimate"


def _estimate_method() -> SavingsMethod | None:
    return (
        SavingsMethod.objects.filter(code=ESTIMATE_METHOD).first()
        or SavingsMethod.objects.order_by("code").first()
    )


def savings_expected_from_candidate(
    *, candidate: CandidateArea, tender: TenderCase, actor
) -> list[SavingsRecord]:
    """Estimate each active region's expected saving when the chiefs approve an area.

    From the UFO figures: the area's annual purchase volume, split evenly between the
    active regions (the UFO figures are not per region; each region's officer adjusts its
    own), and the expected price reduction. Nothing without both figures.
    """
    volume, reduction = candidate.annual_volume, candidate.expected_reduction
    method = _estimate_method()
    if not volume or reduction is None or method is None:
        return []
    regions = list(Region.objects.filter(active=True).order_by("code"))
    if not regions:
        return []
    baseline = (volume / len(regions)).quantize(Decimal("0.01"))
    new = (baseline * (1 - reduction / 100)).quantize(Decimal("0.01"))
    records = []
    for region in regions:
        record, _created = SavingsRecord.objects.get_or_create(
            tender=tender,
            region=region,
            stage=SavingsRecord.Stage.EXPECTED,
            defaults={
                "baseline_annual_cost": baseline,
                "new_annual_cost": new,
                "method": method,
                "recorded_by": actor,
            },
        )
        records.append(record)
    return records


@transaction.atomic
def savings_expect(
    *,
    tender: TenderCase,
    region: Region,
    actor,
    baseline_annual_cost: Decimal,
    new_annual_cost: Decimal,
    method: SavingsMethod | None = None,
) -> SavingsRecord:
    """Record (or adjust) a region's expected saving on a joint case: a forecast."""
    if not permissions.can_record_savings(actor, tender, region):
        raise PermissionDenied(_("You may record savings only for your own region."))
    errors: dict = {}
    _savings_amount_errors(errors, baseline_annual_cost, new_annual_cost)
    method = method or _estimate_method()
    if method is None:
        errors["method"] = [_("Choose a calculation method.")]
    if errors:
        raise ValidationError(errors)
    stage = SavingsRecord.Stage.EXPECTED
    record = SavingsRecord.objects.filter(
        tender=tender, region=region, stage=stage
    ).first() or SavingsRecord(tender=tender, region=region, stage=stage, recorded_by=actor)
    record.baseline_annual_cost = baseline_annual_cost
    record.new_annual_cost = new_annual_cost
    record.method = method
    record.recorded_by = actor
    _with_actor(record, actor)
    record.save()
    return record


@transaction.atomic
def savings_plan_set(
    *, actor, region: Region, year: int, owner, forecast: Decimal, note: str = ""
) -> SavingsPlan:
    """Set a region's savings plan for a year: its owner and its forecast."""
    if not permissions.can_edit_savings_plan(actor, region):
        raise PermissionDenied(_("You may keep only your own region's savings plan."))
    errors: dict = {}
    if owner is None or not permissions.can_own_savings_plan(owner, region):
        errors["owner"] = [_("The owner must be a user of the region.")]
    if forecast is None or forecast < 0:
        errors["forecast"] = [_("The forecast cannot be negative.")]
    if year is None or not 2000 <= year <= 2100:
        errors["year"] = [_("Give a year between 2000 and 2100.")]
    _refuse_bad_values(errors, texts={"note": note})
    if errors:
        raise ValidationError(errors)
    plan = SavingsPlan.objects.filter(region=region, year=year).first() or SavingsPlan(
        region=region, year=year
    )
    plan.owner = owner
    plan.forecast = forecast
    plan.note = (note or "").strip()
    _with_actor(plan, actor)
    plan.save()
    return plan


# Decision reminders -----------------------------------------------------------------------


def decision_reminders_send(*, today: dt.date | None = None) -> int:
    """Mail the officers of every pending region N days before the decision deadline.

    N comes from PlanSettings.reminder_day_list (14 and 3 by default). One
    DeadlineReminder row per (participation, deadline, days before), created in the
    same transaction as the mail is sent, makes a second run the same day send nothing:
    a concurrent run blocks on the unique constraint and then finds the row. A mail
    that fails rolls its row back, so the next run tries again. Returns the number sent.
    """
    today = today or timezone.localdate()
    days = PlanSettings.current().reminder_day_list

    def claim(participation):
        deadline = participation.tender.decision_deadline
        return DeadlineReminder.objects.get_or_create(
            participation=participation, deadline=deadline, days_before=(deadline - today).days
        )

    def mails(participation) -> list[Mail]:
        tender, region = participation.tender, participation.region
        recipients = selectors.officer_emails(region=region)
        if not recipients:
            return []
        deadline = tender.decision_deadline
        days_before = (deadline - today).days
        link = absolute_url(
            reverse(
                "tenders:participation",
                kwargs={"reference": tender.reference, "region_code": region.code},
            )
        )
        with translation.override("da"):
            values = {
                "region": region.name,
                "reference": tender.reference,
                "title": tender.title,
                "deadline": deadline.strftime("%d-%m-%Y"),
                "link": link,
            }
            values["in_days"] = ngettext("in %(days)d day", "in %(days)d days", days_before) % {
                "days": days_before
            }
            subject = _("Reminder: decide on %(reference)s %(title)s by %(deadline)s") % values
            body = (
                _(
                    "%(region)s has not yet decided whether to take part in the "
                    "joint tender %(reference)s “%(title)s”.\n\n"
                    "The decision deadline is %(deadline)s (%(in_days)s). Follow or "
                    "explain: record full participation, participation on an "
                    "option, or an opt-out with a written justification.\n\n"
                    "Record the decision here: %(link)s\n"
                )
                % values
            )
        return [Mail(subject, body, recipients)]

    return reminders_send(
        due=selectors.pending_reminders_due(today=today, days=days),
        claim=claim,
        mails=mails,
        describe=lambda participation: (
            f"decision reminder for {participation.tender.reference} {participation.region.code}"
        ),
    )
