"""The dashboards' choices: region, year, the KPI compared across regions, the report month."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from kpi import definitions

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
