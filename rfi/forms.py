"""Forms of the project package."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rfi.models import Region
from rfi.selectors import audit_kinds


class AuditFilterForm(forms.Form):
    """/historik/: narrow the audit trail by region, user, kind of record and date."""

    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.order_by("code"),
        required=False,
        empty_label=_("All regions"),
    )
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds"))] + [
            (kind.key, kind.label.capitalize()) for kind in audit_kinds()
        ]

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned
