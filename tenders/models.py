"""The joint tender plan (FUP): tender cases, participation, UFO candidates, decisions, savings."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rfi.cpv import significant_prefix
from rfi.models import Category, PartnerBody, Region, _in_language

MONEY = {"max_digits": 15, "decimal_places": 2}


class PlanSettings(models.Model):
    """The secretariat's rules for follow-or-explain (one row)."""

    min_justification_length = models.PositiveIntegerField(
        _("minimum length of an opt-out justification"), default=40
    )
    reminder_days = models.CharField(
        _("reminder days before the decision deadline"),
        max_length=50,
        default="14,3",
        help_text=_("Comma-separated, e.g. 14,3"),
    )

    class DecisionRule(models.TextChoices):
        UNANIMITY = "unanimity", _("Unanimity: every active region approves")
        MAJORITY = "majority", _("Majority: more than half of the active regions approve")

    decision_rule = models.CharField(
        _("how the chiefs decide on a recommended area"),
        max_length=20,
        choices=DecisionRule.choices,
        default=DecisionRule.UNANIMITY,
    )
    participation_round_days = models.PositiveIntegerField(
        _("days the regions have to decide on participation after an approval"), default=56
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan settings")
        verbose_name_plural = _("plan settings")

    def __str__(self) -> str:
        return str(_("Plan settings"))

    @classmethod
    def current(cls) -> PlanSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def reminder_day_list(self) -> list[int]:
        return sorted({int(d) for d in self.reminder_days.split(",") if d.strip().isdigit()})


class CodedList(models.Model):
    """An entry of a list the secretariat keeps: a code and a Danish and English label."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_da = models.CharField(_("Danish label"), max_length=200)
    label_en = models.CharField(_("English label"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return _in_language(self.label_da, self.label_en)


class OptOutReason(CodedList):
    """A reason a region may give for opting out; the secretariat keeps the list."""

    asks_contract_end = models.BooleanField(
        _("asks for the end date of an existing contract"),
        default=False,
        help_text=_("The system then proposes option participation instead."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("opt-out reason")
        verbose_name_plural = _("opt-out reasons")


class TenderCase(models.Model):
    """A joint tender (udbudssag) in the plan, led by a region or a partner body."""

    class Area(models.TextChoices):
        GOODS_SERVICES = "goods_services", _("Goods and services")
        MEDICO_ACQUISITIONS = "medico_acquisitions", _("Medico and acquisitions")

    class Kind(models.TextChoices):
        FRAMEWORK = "framework", _("Framework agreement")
        ONE_OFF = "one_off", _("One-off purchase")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_TENDER = "in_tender", _("In tender")
        IN_CONTRACT = "in_contract", _("In contract period")
        ENDED = "ended", _("Ended")
        CANCELLED = "cancelled", _("Cancelled")

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="tenders"
    )
    area = models.CharField(_("area"), max_length=30, choices=Area.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    has_options = models.BooleanField(_("carries options for later joining"), default=False)
    lead_region = models.ForeignKey(
        Region,
        verbose_name=_("lead region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_tenders",
    )
    lead_partner = models.ForeignKey(
        PartnerBody,
        verbose_name=_("lead partner body"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_tenders",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    expected_tender_start = models.DateField(_("expected tender start"), null=True, blank=True)
    publication_date = models.DateField(_("publication"), null=True, blank=True)
    award_date = models.DateField(_("award"), null=True, blank=True)
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    extension_until = models.DateField(_("extension options until"), null=True, blank=True)
    decision_deadline = models.DateField(_("decision deadline"), null=True, blank=True)
    estimated_annual_value = models.DecimalField(
        _("estimated annual contract value"), **MONEY, null=True, blank=True
    )
    internal_notes = models.TextField(_("internal notes"), blank=True)
    is_publishable = models.BooleanField(_("may be published"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-reference"]
        verbose_name = _("tender case")
        verbose_name_plural = _("tender cases")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(lead_region__isnull=False, lead_partner__isnull=True)
                    | models.Q(lead_region__isnull=True, lead_partner__isnull=False)
                ),
                name="tendercase_one_lead",
                violation_error_message=_("A tender has a lead region or a lead partner body."),
            )
        ]
        indexes = [models.Index(fields=["status", "area"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def lead_name(self) -> str:
        lead = self.lead_region or self.lead_partner
        return lead.name if lead else ""


def normalise_cpv_prefix(value: str) -> str:
    """A CPV code or prefix as a prefix: digits only, trailing zeros after the division dropped.

    33141000 and 33141000-0 become 33141 (KPI.md's convention for a contract's category).
    """
    return significant_prefix(value or "")


class AreaMapping(models.Model):
    """A CPV prefix and the area its purchases belong to; the suggestion for a case's area.

    The longest prefix that starts a case's CPV code wins; a code no prefix matches is
    goods and services. The secretariat keeps the list (admin); seed_reference loads the
    seeded rows (tenders/data/plan_reference.json) and leaves edited ones alone.
    """

    prefix = models.CharField(
        _("CPV prefix"),
        max_length=8,
        unique=True,
        validators=[
            RegexValidator(r"^\d{2,8}$", _("Type two to eight digits of a CPV code, e.g. 33141."))
        ],
        help_text=_(
            "The first digits of the CPV codes it covers, e.g. 33141 for disposable medical "
            "consumables; trailing zeros are dropped (33141000 is 33141)."
        ),
    )
    area = models.CharField(_("area"), max_length=30, choices=TenderCase.Area.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["prefix"]
        verbose_name = _("area mapping")
        verbose_name_plural = _("area mappings")

    def __str__(self) -> str:
        return f"{self.prefix} → {self.get_area_display()}"

    def clean(self) -> None:
        self.prefix = normalise_cpv_prefix(self.prefix)

    def save(self, *args, **kwargs) -> None:
        self.prefix = normalise_cpv_prefix(self.prefix)
        super().save(*args, **kwargs)


class Participation(models.Model):
    """One active region's decision on one tender case: follow or explain."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        FULL = "full", _("Full participation")
        OPTION = "option", _("On an option")
        OPTED_OUT = "opted_out", _("Opted out")

    tender = models.ForeignKey(
        TenderCase,
        verbose_name=_("tender case"),
        on_delete=models.CASCADE,
        related_name="participations",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="participations"
    )
    status = models.CharField(
        _("participation"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    estimated_annual_value = models.DecimalField(
        _("estimated annual value for the region"), **MONEY, null=True, blank=True
    )
    option_expected_join = models.DateField(_("expects to join on"), null=True, blank=True)
    option_exercised_on = models.DateField(_("option exercised on"), null=True, blank=True)
    opt_out_reason = models.ForeignKey(
        OptOutReason,
        verbose_name=_("reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participations",
    )
    justification = models.TextField(_("justification"), blank=True)
    existing_contract_end = models.DateField(_("existing contract ends"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["tender", "region__code"]
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["tender", "region"], name="participation_unique_tender_region"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tender.reference} · {self.region.code} · {self.get_status_display()}"

    @property
    def takes_part(self) -> bool:
        return self.status in (self.Status.FULL, self.Status.OPTION)


class DeadlineReminder(models.Model):
    """A reminder mail sent to a pending region: never twice for the same deadline and day."""

    participation = models.ForeignKey(
        Participation, on_delete=models.CASCADE, related_name="reminders"
    )
    deadline = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participation", "deadline", "days_before"], name="reminder_once"
            )
        ]


class ScoringCriterion(CodedList):
    """A line of the UFO scoring template; weights are data."""

    weight = models.DecimalField(
        _("weight"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    # What each score means: {"1": {"da": "…", "en": "…"}, …, "5": {…}}; the secretariat
    # edits it on the rubric page (tenders.services.scoring_rubric_update).
    rubric = models.JSONField(_("rubric"), default=dict, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("scoring criterion")
        verbose_name_plural = _("scoring criteria")

    def rubric_text(self, score: int, language: str | None = None) -> str:
        """What ``score`` (1–5) means for this criterion, in the language (Danish fallback)."""
        entry = (self.rubric or {}).get(str(score)) or {}
        if language is None:
            return _in_language(entry.get("da", ""), entry.get("en", ""))
        return entry.get(language, "")

    def rubric_by_score(self) -> dict[str, str]:
        """{"1": text, …, "5": text} in the current language; empty texts left out."""
        texts = {str(n): self.rubric_text(n) for n in SCORE_RANGE}
        return {score: text for score, text in texts.items() if text}


SCORE_RANGE = range(1, 6)


class VolumeScoreThreshold(models.Model):
    """A band of annual spend and the volume score it suggests (docs/screening.md).

    The suggestion for a candidate is the score of the highest threshold its annual
    spend (last 12 months, all regions) reaches; the scorer may give another score.
    """

    score = models.PositiveSmallIntegerField(
        _("suggested score"),
        unique=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    min_annual_spend = models.DecimalField(
        _("from annual spend (kr.)"), validators=[MinValueValidator(Decimal("0"))], **MONEY
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["score"]
        verbose_name = _("volume score threshold")
        verbose_name_plural = _("volume score thresholds")

    def __str__(self) -> str:
        return f"{self.score}: {self.min_annual_spend}"


class CandidateArea(models.Model):
    """A purchasing area the UFO group screens for a joint tender."""

    class Status(models.TextChoices):
        SCREENING = "screening", _("Being scored")
        RECOMMENDED = "recommended", _("Recommended to the chiefs")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        POSTPONED = "postponed", _("Postponed")

    title = models.CharField(_("title"), max_length=300)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="candidates"
    )
    description = models.TextField(_("description"), blank=True)
    plan_year = models.PositiveIntegerField(_("target plan year"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proposer_region = models.ForeignKey(
        Region, verbose_name=_("proposing region"), null=True, blank=True, on_delete=models.PROTECT
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SCREENING
    )
    recommended_at = models.DateTimeField(_("recommended at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    recommendation_reason = models.TextField(
        _("reason for recommending before every UFO member scored"),
        blank=True,
        help_text=_("The secretariat's reason; kept in the history."),
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    postponed_to_year = models.PositiveIntegerField(_("postponed to"), null=True, blank=True)
    meeting_date = models.DateField(
        _("chiefs' meeting"),
        null=True,
        blank=True,
        help_text=_("The meeting where the chiefs decide; chiefs who have not voted are reminded."),
    )
    minutes_reference = models.CharField(_("minutes reference"), max_length=200, blank=True)
    # The UFO figures the expected savings are estimated from when the chiefs approve.
    annual_volume = models.DecimalField(
        _("annual purchase volume, all regions"),
        null=True,
        blank=True,
        help_text=_("The regions' yearly purchases in the area today (kr.)."),
        **MONEY,
    )
    expected_reduction = models.DecimalField(
        _("expected price reduction (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("The UFO group's estimate of the price reduction a joint tender gives."),
    )
    tender = models.OneToOneField(
        TenderCase,
        verbose_name=_("tender case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="candidate",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # The ledger's screening figures when the area was proposed (spend.screening's JSON):
    # what the proposer saw, kept beside the live figures the candidate page shows.
    screening_at_proposal = models.JSONField(
        _("screening figures at proposal"), null=True, blank=True, editable=False
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-plan_year", "title"]
        verbose_name = _("candidate area")
        verbose_name_plural = _("candidate areas")

    def __str__(self) -> str:
        return f"{self.title} ({self.plan_year})"


class CandidateVote(models.Model):
    """One region's vote, cast by its procurement chief, on a recommended area."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        POSTPONE = "postpone", _("Postpone")

    candidate = models.ForeignKey(CandidateArea, on_delete=models.CASCADE, related_name="votes")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    decision = models.CharField(_("vote"), max_length=10, choices=Decision.choices)
    reason = models.TextField(_("reason"), blank=True)
    postpone_to_year = models.PositiveIntegerField(_("postpone to"), null=True, blank=True)
    voted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voted by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    voted_at = models.DateTimeField(_("voted at"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["region__code"]
        verbose_name = _("chief's vote")
        verbose_name_plural = _("chiefs' votes")
        constraints = [
            models.UniqueConstraint(fields=["candidate", "region"], name="one_vote_per_region")
        ]

    def __str__(self) -> str:
        return f"{self.candidate} · {self.region.code} · {self.get_decision_display()}"


class ScoreSheet(models.Model):
    """One UFO member's scoring of one candidate area."""

    class OtherBody(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        MAYBE = "maybe", _("Worth examining")

    candidate = models.ForeignKey(
        CandidateArea, on_delete=models.CASCADE, related_name="score_sheets"
    )
    scorer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="score_sheets"
    )
    with_other_body = models.CharField(
        _("tender with another public body (SKI, Amgros, municipalities, state)?"),
        max_length=10,
        choices=OtherBody.choices,
        default=OtherBody.NO,
    )
    other_body = models.ForeignKey(
        PartnerBody, verbose_name=_("which body"), null=True, blank=True, on_delete=models.PROTECT
    )
    other_body_comment = models.TextField(_("comment"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("UFO score sheet")
        constraints = [
            models.UniqueConstraint(fields=["candidate", "scorer"], name="one_sheet_per_scorer")
        ]

    def __str__(self) -> str:
        return f"{self.candidate} – {self.scorer}"


class Score(models.Model):
    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(ScoringCriterion, on_delete=models.PROTECT)
    value = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    # A resubmitted sheet changes its scores in place, so every earlier score stays here.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("UFO score")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "criterion"], name="one_score_per_criterion"),
            models.CheckConstraint(
                condition=models.Q(value__gte=1, value__lte=5), name="score_between_1_and_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sheet}: {self.criterion} = {self.value}"


class SavingsMethod(CodedList):
    """How a saving was calculated; the secretariat keeps the list."""

    class Meta:
        ordering = ["code"]
        verbose_name = _("calculation method")
        verbose_name_plural = _("calculation methods")


class SavingsRecord(models.Model):
    """A region's saving, on a joint case (``tender``) or on its own contract (no tender).

    A region's own contract names its category and kind instead of a case. The stage says
    whether the figure is an estimate (expected: from the UFO figures when the chiefs
    approve the area, adjustable by the region's officer) or the award's baseline against
    the new annual cost (awarded). The third stage, realised, is not stored: it is computed
    per year from the awarded record and the region's compliance (``tenders.savings``).
    """

    class Stage(models.TextChoices):
        EXPECTED = "expected", _("Expected")
        AWARDED = "awarded", _("Awarded")

    # Savings count from award: an expected record is a forecast (KPI.md annual_savings).
    COUNTED_STAGES = (Stage.AWARDED,)

    Kind = TenderCase.Kind

    tender = models.ForeignKey(
        TenderCase,
        verbose_name=_("tender case"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="savings",
        help_text=_("Empty: the region's own contract."),
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="savings"
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Required for a region's own contract; a joint case's is the case's."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TenderCase.Kind.choices, blank=True)
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.AWARDED
    )
    baseline_annual_cost = models.DecimalField(_("baseline annual cost"), **MONEY)
    new_annual_cost = models.DecimalField(_("new annual cost"), **MONEY)
    method = models.ForeignKey(
        SavingsMethod, verbose_name=_("calculation method"), on_delete=models.PROTECT
    )
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["tender", "region__code"]
        verbose_name = _("savings record")
        verbose_name_plural = _("savings records")
        constraints = [
            models.UniqueConstraint(
                fields=["tender", "region", "stage"],
                condition=models.Q(tender__isnull=False),
                name="savings_unique_tender_region_stage",
            ),
            models.CheckConstraint(
                condition=models.Q(tender__isnull=False)
                | (models.Q(category__isnull=False) & ~models.Q(kind="")),
                name="savings_tender_or_category_and_kind",
            ),
        ]

    @property
    def is_joint(self) -> bool:
        return self.tender_id is not None

    @property
    def effective_kind(self) -> str:
        """The kind of the contract: the record's own, else its joint case's."""
        return self.kind or (self.tender.kind if self.tender_id else "")

    @property
    def annual_saving(self) -> Decimal:
        return self.baseline_annual_cost - self.new_annual_cost

    @property
    def price_reduction(self) -> Decimal | None:
        """The saving as a fraction of the baseline (0.15 = 15 %)."""
        if not self.baseline_annual_cost:
            return None
        return self.annual_saving / self.baseline_annual_cost


class SavingsPlan(models.Model):
    """A region's savings plan for a year: who owns it and what they forecast."""

    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="savings_plans"
    )
    year = models.PositiveIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="savings_plans",
    )
    forecast = models.DecimalField(
        _("forecast realised savings"),
        help_text=_("The savings the region expects to realise in the year (kr.)."),
        **MONEY,
    )
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "region__code"]
        verbose_name = _("savings plan")
        verbose_name_plural = _("savings plans")
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="savings_plan_one_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.region.code} {self.year}"
