"""Forms of the UFO pages and the savings pages; the services do the checking that matters."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rfi import permissions
from rfi.models import Category, PartnerBody, Region
from tenders.models import SavingsMethod, ScoreSheet, ScoringCriterion
from tenders.services import Decision

SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        # The browser's date picker sends and expects ISO dates whatever the language.
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def apply_service_errors(form: forms.Form, error: ValidationError, field_map=None) -> None:
    """Show a service's ValidationError on the form: by field where the form has one."""
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, messages in error.message_dict.items():
        name = field_map.get(key, key)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def category_by_code(value: str) -> Category:
    """A CPV category by its code, with or without the check digit ("33141000" or "33141000-0")."""
    text = (value or "").strip()
    code, _sep, check = text.partition("-")
    if not (code.isdigit() and len(code) == 8):
        raise ValidationError(
            _("Give an 8-digit CPV code, e.g. 33141000 or 33141000-0."), code="invalid"
        )
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise ValidationError(_("No CPV category has the code %(code)s."), params={"code": code})
    if check and check != category.check_digit:
        raise ValidationError(
            _("The check digit of %(code)s is %(digit)s."),
            params={"code": code, "digit": category.check_digit},
        )
    return category


def regions_of(user) -> list[Region]:
    """The regions the user holds a role in; the secretariat speaks for every region."""
    regions = Region.objects.filter(active=True)
    if permissions.is_secretariat(user):
        return list(regions)
    return [r for r in regions if permissions.roles_in(user, r)]


class CandidateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    category = forms.CharField(
        label=_("CPV category"),
        max_length=10,
        help_text=_("The CPV code, e.g. 33141000 or 33141000-0."),
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    plan_year = forms.IntegerField(label=_("Target plan year"), min_value=2000, max_value=2100)
    proposer_region = forms.ModelChoiceField(
        label=_("Proposing region"), queryset=Region.objects.none(), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan_year"].initial = timezone.localdate().year + 1
        allowed = regions_of(user)
        field = self.fields["proposer_region"]
        field.queryset = Region.objects.filter(pk__in=[r.pk for r in allowed])
        if len(allowed) == 1:
            field.initial = allowed[0].pk

    def clean_category(self) -> Category:
        return category_by_code(self.cleaned_data["category"])


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
        """(criterion, score field, comment field) for the template."""
        return [(c, self[f"score_{c.code}"], self[f"comment_{c.code}"]) for c in self.criteria]

    def scores(self) -> dict[str, tuple[int, str]]:
        data = self.cleaned_data
        return {
            c.code: (int(data[f"score_{c.code}"]), data.get(f"comment_{c.code}", ""))
            for c in self.criteria
        }

    def error_map(self) -> dict[str, str]:
        return {c.code: f"score_{c.code}" for c in self.criteria}


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

    def __init__(self, *args, for_meeting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if (
            not for_meeting
        ):  # a chief votes for the region; the meeting fields are the secretariat's
            for name in ("lead_region", "meeting_date", "minutes_reference"):
                del self.fields[name]


class SavingsForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none())
    baseline_annual_cost = forms.DecimalField(
        label=_("Baseline annual cost (kr.)"),
        max_digits=15,
        decimal_places=2,
        localize=True,
        help_text=_("What the region paid a year before the tender."),
    )
    new_annual_cost = forms.DecimalField(
        label=_("New annual cost (kr.)"), max_digits=15, decimal_places=2, localize=True
    )
    method = forms.ModelChoiceField(
        label=_("Calculation method"), queryset=SavingsMethod.objects.all()
    )
    contract_start = forms.DateField(label=_("Contract start"), required=False, widget=DateInput)
    contract_end = forms.DateField(label=_("Contract end"), required=False, widget=DateInput)

    def __init__(self, *args, regions: list[Region], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["region"]
        field.queryset = Region.objects.filter(pk__in=[r.pk for r in regions])
        if len(regions) == 1:
            field.initial = regions[0].pk
