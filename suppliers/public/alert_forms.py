"""The suppliers' alert subscription form (public, no account)."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from rfi.models import Region
from suppliers.public import alerts


class SubscribeForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    categories = forms.CharField(
        label=_("Categories (CPV codes)"),
        required=False,
        max_length=500,
        help_text=_(
            "One or more CPV codes separated by commas, e.g. 33000000 for the whole of "
            "division 33 or 33140000 for medical consumables. A code includes every "
            "category below it. Leave empty for all categories."
        ),
    )
    regions = forms.ModelMultipleChoiceField(
        label=_("Regions"),
        queryset=Region.objects.filter(active=True).order_by("code"),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Tenders a chosen region leads or takes part in (fully or on an option). "
            "Choose none for all regions."
        ),
        error_messages={"invalid_choice": _("Unknown region code “%(value)s”.")},
    )

    def clean_categories(self):
        codes = [code for code in re.split(r"[\s,;]+", self.cleaned_data["categories"]) if code]
        # categories_from_codes raises a ValidationError naming the codes it cannot use.
        return alerts.categories_from_codes(codes)
