"""Browser forms of the joint tender plan; the services do the writing and the rules."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rfi import permissions
from rfi.forms import AmountField, CategoryCodeField, DateInput, check_with_service
from rfi.models import Category, PartnerBody, Region
from tenders import services
from tenders.models import OptOutReason, Participation, TenderCase
from tenders.services import TENDER_FIELDS

DATE_FIELDS = (
    "expected_tender_start",
    "publication_date",
    "award_date",
    "contract_start",
    "contract_end",
    "extension_until",
    "decision_deadline",
)


class TenderCaseForm(forms.ModelForm):
    """A tender case as the lead region's officers and the secretariat edit it."""

    category = CategoryCodeField(
        label=_("CPV category"),
        help_text=_("Type the CPV code, e.g. 33141000 or 33141000-0."),
    )

    class Meta:
        model = TenderCase
        fields = list(TENDER_FIELDS)
        field_classes = {"estimated_annual_value": AmountField}
        widgets = {
            **{name: DateInput() for name in DATE_FIELDS},
            "description": forms.Textarea(attrs={"rows": 4}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "estimated_annual_value": _("All participating regions together, in DKK a year."),
            "decision_deadline": _(
                "The date by which every region must have decided: follow or explain."
            ),
            "has_options": _("Regions that cannot join now may join later on an option."),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        allowed = [r.pk for r in permissions.regions_where(user, permissions.can_lead_tender_as)]
        lead_region = self.fields["lead_region"]
        lead_region.queryset = Region.objects.filter(pk__in=allowed)
        if len(allowed) == 1:
            lead_region.empty_label = None
        if permissions.can_lead_tender_as(user, None):
            self.fields["lead_partner"].queryset = PartnerBody.objects.filter(active=True)
            self.fields["lead_partner"].help_text = _(
                "Instead of a lead region, e.g. an Amgros pilot tender."
            )
        else:
            # Only the secretariat hands the lead to a partner body.
            del self.fields["lead_partner"]
            lead_region.required = True
        if self.instance.pk is None and len(allowed) == 1:
            self.initial.setdefault("lead_region", allowed[0])
        for name in ("expected_tender_start", "publication_date", "award_date"):
            self.fields[name].widget.attrs.setdefault("aria-describedby", "milestone-hint")
        # The officer chooses the area; left empty, the case gets the CPV code's suggestion.
        area = self.fields["area"]
        area.required = False
        area.choices = [("", _("Suggested from the CPV code"))] + list(TenderCase.Area.choices)
        area.help_text = _("Left empty, the area suggested for the CPV code is used.")

    @property
    def chosen_category(self) -> Category | None:
        if self.is_bound:
            return self.cleaned_data.get("category") if hasattr(self, "cleaned_data") else None
        return self.instance.category if self.instance.category_id else None

    def _post_clean(self):
        super()._post_clean()  # the model's checks; the instance now holds the cleaned values
        # The plan's rules (milestones in order, status and milestones, one lead) in the same
        # round as the fields' own errors.
        check_with_service(self, lambda: services.tender_validate(self.instance))

    def service_fields(self) -> dict:
        """The cleaned values the tender services take."""
        return {name: self.cleaned_data[name] for name in TENDER_FIELDS if name in self.fields}


class ParticipationForm(forms.Form):
    """Follow or explain: one region's decision on one tender case."""

    status = forms.ChoiceField(label=_("The region's decision"), widget=forms.RadioSelect)
    option_expected_join = forms.DateField(
        label=_("Expects to join on"),
        required=False,
        widget=DateInput(),
        help_text=_("For option participation: e.g. when the current contract ends."),
    )
    opt_out_reason = forms.ModelChoiceField(
        label=_("Reason for opting out"),
        queryset=OptOutReason.objects.none(),
        required=False,
    )
    justification = forms.CharField(
        label=_("Justification"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    existing_contract_end = forms.DateField(
        label=_("Existing contract ends"),
        required=False,
        widget=DateInput(),
        help_text=_("Required when the reason is an existing contract."),
    )
    estimated_annual_value = AmountField(
        label=_("Estimated annual value for the region"),
        required=False,
        min_value=0,
        max_digits=15,
        decimal_places=2,
        help_text=_("In DKK a year."),
    )

    def __init__(
        self, *args, participation: Participation, min_length: int, refresh_url: str, **kwargs
    ):
        super().__init__(*args, **kwargs)
        # Choosing a decision, a reason or the contract's end re-renders the form (htmx), so
        # the contract end and the option proposal follow the chosen reason.
        refresh = {
            "data-hx-get": refresh_url,
            "data-hx-include": "closest form",
            "data-hx-target": "#participation-form",
            "data-hx-swap": "outerHTML",
            "data-hx-params": "not csrfmiddlewaretoken",
        }
        for name in ("status", "opt_out_reason", "existing_contract_end"):
            self.fields[name].widget.attrs.update(refresh)
        # A date input reports a change per typed segment; refresh only once the user leaves it.
        self.fields["existing_contract_end"].widget.attrs["data-hx-trigger"] = "blur changed"
        statuses = Participation.Status
        choices = [(statuses.FULL, _("Full participation"))]
        if participation.tender.has_options or participation.status == statuses.OPTION:
            choices.append((statuses.OPTION, _("On an option (joins later)")))
        choices.append((statuses.OPTED_OUT, _("Opts out (follow or explain)")))
        self.fields["status"].choices = choices
        reasons = OptOutReason.objects.filter(active=True)
        if participation.opt_out_reason_id:
            reasons = OptOutReason.objects.filter(active=True) | OptOutReason.objects.filter(
                pk=participation.opt_out_reason_id
            )
        self.fields["opt_out_reason"].queryset = reasons.distinct()
        self.fields["justification"].help_text = _(
            "Required when the region opts out: at least %(min)d characters."
        ) % {"min": min_length}
        self.min_length = min_length
        self.participation = participation

    def clean(self):
        data = super().clean()
        if data.get("status"):
            check_with_service(
                self,
                lambda: services.participation_decision_check(
                    participation=self.participation,
                    status=data["status"],
                    reason=data.get("opt_out_reason"),
                    justification=data.get("justification", ""),
                    existing_contract_end=data.get("existing_contract_end"),
                    option_expected_join=data.get("option_expected_join"),
                ),
            )
        return data

    @staticmethod
    def initial_for(participation: Participation) -> dict:
        return {
            "status": ""
            if participation.status == Participation.Status.PENDING
            else participation.status,
            "option_expected_join": participation.option_expected_join,
            "opt_out_reason": participation.opt_out_reason_id,
            "justification": participation.justification,
            "existing_contract_end": participation.existing_contract_end,
            "estimated_annual_value": participation.estimated_annual_value,
        }


class OptionExerciseForm(forms.Form):
    exercised_on = forms.DateField(label=_("Exercised on"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"exercised_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
