"""Money in the collaboration's currency, formatted for the active language."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.formats import number_format
from django.utils.html import json_script
from django.utils.translation import get_language

from rfi import formatting

register = template.Library()


@register.filter
def money(value, decimals: int = 0) -> str:
    """1234567 → '1.234.567 kr.' in Danish, 'DKK 1,234,567' in English."""
    if value in (None, ""):
        return "–"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    text = number_format(amount, decimal_pos=int(decimals), force_grouping=True)
    currency = settings.CURRENCY
    if (get_language() or "da").startswith("da") and currency == "DKK":
        return f"{text} kr."
    return f"{currency} {text}"


# Figures that read at a glance (rfi/formatting.py) -----------------------------------------


@register.filter
def compact_money(value) -> str:
    """Headline figures: '98,3 mio. kr.', '1,6 mia. kr.' ('DKK 98.3 m', 'DKK 1.6 bn')."""
    return formatting.compact_money(value)


@register.filter
def whole_kroner(value) -> str:
    """Table cells: '1.234.568 kr.' ('DKK 1,234,568')."""
    return formatting.money(value)


@register.filter
def month(value) -> str:
    """'nov. 2026' ('Nov 2026')."""
    return formatting.month(value)


@register.filter
def counted(value, noun: str = "") -> str:
    """'60.000 linjer' from ``{{ n|counted:"lines" }}`` ('60,000 lines')."""
    return formatting.count(value, noun)


@register.simple_tag
def chart_money_words():
    """The words a chart's own formatter needs to label axes as ``compact_money`` does."""
    return json_script(formatting.compact_money_words(), "chart-money-words")


@register.filter
def percent(value, places: int = 1) -> str:
    """A fraction 0..1 as '82,3 %' ('82.3 %')."""
    return formatting.percent(value, int(places))
