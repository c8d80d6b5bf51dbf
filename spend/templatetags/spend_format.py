"""Shares on the spend pages: "12,5 %" in Danish, "–" when not available."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def pct(value) -> str:
    if value is None or value == "":
        return "–"
    return f"{number_format(value, decimal_pos=1)} %"
