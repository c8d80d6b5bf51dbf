"""Money in the collaboration's currency, formatted for the active language."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import get_language

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
