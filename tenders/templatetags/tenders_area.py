"""The area suggested for a CPV category (tenders.services.area_of), for the case form."""

from __future__ import annotations

from django import template

from tenders import services
from tenders.models import TenderCase

register = template.Library()


@register.filter
def suggested_area(category) -> str:
    """The label of the area the AreaMapping suggests for ``category``; empty without one."""
    if category is None or not getattr(category, "code", None):
        return ""
    return str(dict(TenderCase.Area.choices)[services.area_of(category)])
