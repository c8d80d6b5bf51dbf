"""The dashboards' choices: region, year, the KPI compared across regions, the report month."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from kpi import definitions, services
from kpi.models import Strategy, StrategyActivity
from rfi.forms import check_with_service

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR, LAST_YEAR = 2000, 2100


class DashboardForm(forms.Form):
    """``?region=RM&year=2025&compare=compliance``; every field optional (defaults apply)."""

    region = forms.ChoiceField(label=_("Region"), required=False)
    year = forms.IntegerField(
        label=_("Year"),
        required=False,
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        error_messages={
            "invalid": _("The year must be a number such as 2025."),
            "min_value": _("The year must be %(limit_value)s or later."),
            "max_value": _("The year must be %(limit_value)s or earlier."),
        },
    )
    compare = forms.ChoiceField(
        label=_("KPI compared"),
        required=False,
        choices=[("", "")] + [(key, definitions.get(key).label) for key in definitions.REGION_KEYS],
    )

    def __init__(self, *args, region_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "")] + region_choices
        self.fields["region"].error_messages["invalid_choice"] = _(
            "%(value)s is not a region whose KPIs you may see."
        )


class ReportForm(DashboardForm):
    """The monthly report: ``?region=RM&month=2025-03``."""

    month = forms.CharField(label=_("Month"), required=False)

    def clean_month(self) -> dt.date | None:
        raw = (self.cleaned_data.get("month") or "").strip()
        if not raw:
            return None
        match = MONTH_RE.match(raw)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise forms.ValidationError(_("The month must be written as YYYY-MM, e.g. 2025-03."))
        year = int(match.group(1))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise forms.ValidationError(
                _("The month must lie between %(first)s and %(last)s.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        return dt.date(year, int(match.group(2)), 1)


class StrategyCopyForm(forms.Form):
    """A new strategy, starting from a copy of an earlier one (its targets and activities)."""

    source = forms.ModelChoiceField(
        label=_("Copy targets and activities from"), queryset=None, empty_label=None
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_(
            "Short and stable, e.g. RFI-2027: reports and the API name the strategy by it."
        ),
    )
    start_year = forms.IntegerField(
        label=_("First year"), min_value=FIRST_YEAR, max_value=LAST_YEAR
    )
    end_year = forms.IntegerField(label=_("Last year"), min_value=FIRST_YEAR, max_value=LAST_YEAR)
    baseline_year = forms.IntegerField(
        label=_("Baseline year"),
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        help_text=_("Spot purchases are compared with this year."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Strategy.objects.order_by("-start_year", "-pk")

    def clean(self):
        data = super().clean()
        start, end = data.get("start_year"), data.get("end_year")
        if start and end and end < start:
            self.add_error("end_year", _("A strategy cannot end before it starts."))
        # The strategy's own rules (code taken, overlapping periods) in the same round.
        check_with_service(
            self,
            lambda: services.strategy_check(
                name=data.get("name"),
                code=data.get("code"),
                start_year=data.get("start_year"),
                end_year=data.get("end_year"),
                baseline_year=data.get("baseline_year"),
            ),
        )
        return data


class ActionPlanFilterForm(forms.Form):
    """``?strategy=RFI-2020&status=in_progress&region=RM&overdue=1``; every field optional."""

    strategy = forms.ChoiceField(label=_("Strategy"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    region = forms.ChoiceField(label=_("Responsible region"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, strategies, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["strategy"].choices = [(s.code, str(s)) for s in strategies]
        self.fields["status"].choices = [("", _("All"))] + list(StrategyActivity.Status.choices)
        self.fields["region"].choices = [("", _("All"))] + [
            (r.code, f"{r.code} – {r.name}") for r in regions
        ]


class ActivityUpdateForm(forms.Form):
    """The secretariat's update of one activity: status and note."""

    status = forms.ChoiceField(label=_("Status"))
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = StrategyActivity.Status.choices
