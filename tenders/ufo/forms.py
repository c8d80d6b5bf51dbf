"""Forms of the UFO pages and the savings pages; the services do the checking that matters."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rfi import permissions
from rfi.forms import AmountField, CategoryCodeField, DateInput, check_with_service
from rfi.models import PartnerBody, Region
from tenders import services
from tenders.models import SCORE_RANGE, SavingsMethod, SavingsRecord, ScoreSheet, ScoringCriterion
from tenders.services import Decision

SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


def regions_of(user) -> list[Region]:
    """The regions the user holds a role in; the secretariat speaks for every region."""
    return permissions.regions_where(
        user,
        lambda user, region: permissions.is_secretariat(user) or permissions.roles_in(user, region),
    )


class CandidateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    category = CategoryCodeField(
        label=_("CPV category"),
        help_text=_("The CPV code, e.g. 33141000 or 33141000-0."),
        error_messages={
            "format": _("Give an 8-digit CPV code, e.g. 33141000 or 33141000-0."),
            "unknown": _("No CPV category has the code %(code)s."),
            "check_digit": _("The check digit of %(code)s is %(digit)s."),
        },
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    plan_year = forms.IntegerField(label=_("Target plan year"), min_value=2000, max_value=2100)
    proposer_region = forms.ModelChoiceField(
        label=_("Proposing region"), queryset=Region.objects.none(), required=False
    )
    annual_volume = AmountField(
        label=_("Annual purchase volume, all regions (kr.)"),
        max_digits=15,
        decimal_places=2,
        required=False,
        help_text=_("With the expected price reduction, it gives the expected savings."),
    )
    expected_reduction = forms.DecimalField(
        label=_("Expected price reduction (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        localize=True,  # 12,5 in Danish
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan_year"].initial = timezone.localdate().year + 1
        allowed = regions_of(user)
        field = self.fields["proposer_region"]
        field.queryset = Region.objects.filter(pk__in=[r.pk for r in allowed])
        if len(allowed) == 1:
            field.initial = allowed[0].pk


class ScoreForm(forms.Form):
    """One 1–5 radio group and a comment per active criterion, and the other-body question."""

    with_other_body = forms.ChoiceField(
        label=_("Tender together with another public body (SKI, Amgros, municipalities, state)?"),
        choices=ScoreSheet.OtherBody.choices,
        widget=forms.RadioSelect,
        initial=ScoreSheet.OtherBody.NO,
    )
    other_body = forms.ModelChoiceField(
        label=_("Which body"), queryset=PartnerBody.objects.filter(active=True), required=False
    )
    other_body_comment = forms.CharField(
        label=_("Comment on tendering with another body"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, criteria: list[ScoringCriterion], sheet: ScoreSheet | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        existing = {s.criterion_id: s for s in sheet.scores.all()} if sheet else {}
        for criterion in criteria:
            score = existing.get(criterion.pk)
            self.fields[f"score_{criterion.code}"] = forms.ChoiceField(
                label=criterion.label,
                choices=SCORE_CHOICES,
                widget=forms.RadioSelect,
                initial=str(score.value) if score else None,
                error_messages={
                    "required": _("Score “%(c)s” from 1 to 5.") % {"c": criterion.label},
                    "invalid_choice": _("Score “%(c)s” from 1 to 5.") % {"c": criterion.label},
                },
            )
            self.fields[f"comment_{criterion.code}"] = forms.CharField(
                label=_("Comment"),
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                initial=score.comment if score else "",
            )
        if sheet:
            self.fields["with_other_body"].initial = sheet.with_other_body
            self.fields["other_body"].initial = sheet.other_body_id
            self.fields["other_body_comment"].initial = sheet.other_body_comment

    def rows(self):
        """(criterion, [(radio, what the score means)], score field, comment field)."""
        rows = []
        for criterion in self.criteria:
            score = self[f"score_{criterion.code}"]
            meanings = criterion.rubric_by_score()
            radios = [(radio, meanings.get(str(radio.data["value"]), "")) for radio in score]
            rows.append((criterion, radios, score, self[f"comment_{criterion.code}"]))
        return rows

    def scores(self) -> dict[str, tuple[int, str]]:
        data = self.cleaned_data
        return {
            c.code: (int(data[f"score_{c.code}"]), data.get(f"comment_{c.code}", ""))
            for c in self.criteria
        }

    def error_map(self) -> dict[str, str]:
        return {c.code: f"score_{c.code}" for c in self.criteria}


class RecommendForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for recommending before every UFO member has scored"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class RubricForm(forms.Form):
    """What each score 1–5 means for one criterion, in Danish (required) and English."""

    def __init__(self, *args, criterion: ScoringCriterion, **kwargs):
        super().__init__(*args, **kwargs)
        self.criterion = criterion
        for score in SCORE_RANGE:
            for language, label, required in (
                ("da", _("%(score)d – Danish"), True),
                ("en", _("%(score)d – English"), False),
            ):
                self.fields[f"{language}_{score}"] = forms.CharField(
                    label=label % {"score": score},
                    required=required,
                    max_length=500,
                    initial=criterion.rubric_text(score, language),
                    widget=forms.Textarea(attrs={"rows": 2}),
                )

    def rows(self):
        """(score, Danish field, English field) for the template."""
        return [(n, self[f"da_{n}"], self[f"en_{n}"]) for n in SCORE_RANGE]

    def texts(self) -> dict[int, tuple[str, str]]:
        data = self.cleaned_data
        return {n: (data.get(f"da_{n}", ""), data.get(f"en_{n}", "")) for n in SCORE_RANGE}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Decision.APPROVE, _("Approve: start a joint tender")),
            (Decision.REJECT, _("Reject")),
            (Decision.POSTPONE, _("Postpone to a later plan year")),
        ],
        widget=forms.RadioSelect,
    )
    lead_region = forms.ModelChoiceField(
        label=_("Lead region"),
        queryset=Region.objects.filter(active=True),
        required=False,
        widget=forms.Select(attrs={"aria-describedby": "lead-suggestion"}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Required when rejecting or postponing."),
    )
    postpone_to_year = forms.IntegerField(
        label=_("Postpone to plan year"), min_value=2000, max_value=2100, required=False
    )
    meeting_date = forms.DateField(
        label=_("Date of the chiefs' meeting"), required=False, widget=DateInput()
    )
    minutes_reference = forms.CharField(
        label=_("Minutes reference"), max_length=200, required=False
    )

    def __init__(self, *args, for_meeting: bool = False, candidate=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.for_meeting = for_meeting
        self.candidate = candidate
        if (
            not for_meeting
        ):  # a chief votes for the region; the meeting fields are the secretariat's
            for name in ("lead_region", "meeting_date", "minutes_reference"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if self.candidate is not None and data.get("decision"):
            check_with_service(
                self,
                lambda: services.candidate_decision_check(
                    candidate=self.candidate,
                    decision=data["decision"],
                    reason=data.get("reason", ""),
                    postpone_to_year=data.get("postpone_to_year"),
                    for_meeting=self.for_meeting,
                    meeting_date=data.get("meeting_date"),
                    minutes_reference=data.get("minutes_reference", ""),
                ),
            )
        return data


class SavingsForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"),
        choices=SavingsRecord.Stage.choices,
        initial=SavingsRecord.Stage.AWARDED,
        required=False,  # empty: awarded, as before the stage existed
        widget=forms.RadioSelect,
        help_text=_(
            "Expected: the estimate before award (a forecast, not counted as savings). "
            "Awarded: the baseline against the new annual cost at award."
        ),
    )
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none())
    baseline_annual_cost = AmountField(
        label=_("Baseline annual cost (kr.)"),
        max_digits=15,
        decimal_places=2,
        help_text=_("What the region paid a year before the tender."),
    )
    new_annual_cost = AmountField(label=_("New annual cost (kr.)"), max_digits=15, decimal_places=2)
    method = forms.ModelChoiceField(
        label=_("Calculation method"), queryset=SavingsMethod.objects.all()
    )
    contract_start = forms.DateField(label=_("Contract start"), required=False, widget=DateInput())
    contract_end = forms.DateField(label=_("Contract end"), required=False, widget=DateInput())

    def clean_stage(self) -> str:
        return self.cleaned_data.get("stage") or SavingsRecord.Stage.AWARDED

    def __init__(self, *args, regions: list[Region], tender=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tender = tender
        field = self.fields["region"]
        field.queryset = Region.objects.filter(pk__in=[r.pk for r in regions])
        if len(regions) == 1:
            field.initial = regions[0].pk

    def clean(self):
        data = super().clean()
        if self.tender is not None and data.get("stage") == SavingsRecord.Stage.EXPECTED:
            # A forecast, before or after award: only the amounts are checked.
            check_with_service(
                self,
                lambda: services.savings_expect_check(
                    baseline_annual_cost=data.get("baseline_annual_cost"),
                    new_annual_cost=data.get("new_annual_cost"),
                ),
            )
        elif self.tender is not None:
            check_with_service(
                self,
                lambda: services.savings_check(
                    tender=self.tender,
                    baseline_annual_cost=data.get("baseline_annual_cost"),
                    new_annual_cost=data.get("new_annual_cost"),
                    contract_start=data.get("contract_start"),
                    contract_end=data.get("contract_end"),
                ),
            )
        return data


class SavingsPlanForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=None,
        help_text=_("A user of the region who answers for the plan."),
    )
    forecast = AmountField(
        label=_("Forecast realised savings (kr.)"), max_digits=15, decimal_places=2
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, regions: list[Region], year: int, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        pks = [r.pk for r in regions]
        self.fields["region"].queryset = Region.objects.filter(pk__in=pks)
        if len(regions) == 1:
            self.fields["region"].initial = regions[0].pk
        self.fields["year"].initial = year
        self.fields["owner"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, memberships__region__in=pks)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        self.fields["owner"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )
