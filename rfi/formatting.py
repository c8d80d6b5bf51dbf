"""Figures as people read them, in the active language: one module for templates, charts and
exports.

- headline figures and chart axes: ``compact_money`` → "98,3 mio. kr.", "1,6 mia. kr."
  (English "DKK 98.3 m", "DKK 1.6 bn");
- tables: ``money`` → whole kroner with thousands separators, "1.234.568 kr."
  (English "DKK 1,234,568");
- months: ``month`` → "nov. 2026" (English "Nov 2026");
- counts: ``count`` → "60.000 linjer" (English "60,000 lines").

The locale rules (separators, month names) come from Babel (CLDR); the currency words are ours.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.dates import format_date
from babel.numbers import format_decimal
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import get_language, npgettext

MILLION = Decimal(1_000_000)
BILLION = Decimal(1_000_000_000)
DASH = "–"


_KRONER = {"DKK", "NOK", "SEK", "ISK"}


def currency_words() -> str:
    """The collaboration's currency (settings.CURRENCY) as people write it beside an
    amount, as a regex alternation (Python's and RE2's syntax): its code ("DKK"), and
    "kr"/"kr." for the kroner, "€" for the euro. Match it case-insensitively."""
    words = [re.escape(settings.CURRENCY)]
    if settings.CURRENCY in _KRONER:
        words.append(r"kr\.?")
    if settings.CURRENCY == "EUR":
        words.append("€")
    return "|".join(words)


def _lang(lang: str | None = None) -> str:
    code = (lang or get_language() or settings.LANGUAGE_CODE or "da").lower()
    return "en" if code.startswith("en") else "da"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def number(value, places: int = 0, *, lang: str | None = None) -> str:
    """A number with the language's separators: 1.234.567,5 / 1,234,567.5."""
    amount = _decimal(value)
    if amount is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
    rounded = _round(amount, places)
    if rounded == 0:
        rounded = abs(rounded)  # never "-0"
    return format_decimal(rounded, format=pattern, locale=_lang(lang))


def _with_currency(text: str, lang: str, *, scale: str = "") -> str:
    currency = settings.CURRENCY
    if lang == "da" and currency == "DKK":
        words = {"": "kr.", "m": "mio. kr.", "bn": "mia. kr."}[scale]
        return f"{text} {words}"
    suffix = f" {scale}" if scale else ""
    return f"{currency} {text}{suffix}"


def money(value, *, lang: str | None = None) -> str:
    """Whole kroner with thousands separators, for tables: "1.234.568 kr." / "DKK 1,234,568"."""
    amount = _decimal(value)
    if amount is None:
        return DASH
    lang = _lang(lang)
    return _with_currency(number(amount, 0, lang=lang), lang)


def compact_money(value, *, lang: str | None = None) -> str:
    """Headline figures and chart axes: "98,3 mio. kr.", "1,6 mia. kr.", "DKK 98.3 m".

    Below a million the amount is shown in whole kroner. The scale is chosen after rounding,
    so 999.960.000 reads "1,0 mia. kr.", not "1.000,0 mio. kr.".
    """
    amount = _decimal(value)
    if amount is None:
        return DASH
    lang = _lang(lang)
    size = abs(amount)
    if _round(size / MILLION, 1) >= 1000:
        return _with_currency(number(amount / BILLION, 1, lang=lang), lang, scale="bn")
    if _round(size, 0) >= MILLION:
        return _with_currency(number(amount / MILLION, 1, lang=lang), lang, scale="m")
    return _with_currency(number(amount, 0, lang=lang), lang)


def compact_money_words(lang: str | None = None) -> dict[str, str]:
    """What a chart's own formatter needs to write the same labels as ``compact_money``."""
    lang = _lang(lang)
    return {
        "lang": "da-DK" if lang == "da" else "en-GB",
        "plain": _with_currency("{}", lang),
        "million": _with_currency("{}", lang, scale="m"),
        "billion": _with_currency("{}", lang, scale="bn"),
    }


def month(value, *, lang: str | None = None, long: bool = False) -> str:
    """A month as "nov. 2026" / "Nov 2026" (a date or a datetime; the day is ignored);
    ``long``: "november 2026" / "November 2026"."""
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value if len(value) > 7 else f"{value}-01")
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    if not isinstance(value, dt.date):
        return str(value)
    return format_date(value, "MMMM y" if long else "MMM y", locale=_lang(lang))


def _nouns(noun: str, n: int) -> str:
    """The counted nouns the pages use, singular or plural by ``n`` (translated)."""
    forms = {
        "lines": lambda: npgettext("count", "line", "lines", n),
        "cases": lambda: npgettext("count", "case", "cases", n),
        "rows": lambda: npgettext("count", "row", "rows", n),
        "members": lambda: npgettext("count", "member", "members", n),
        "contracts": lambda: npgettext("count", "contract", "contracts", n),
        "regions": lambda: npgettext("count", "region", "regions", n),
        "days": lambda: npgettext("count", "day", "days", n),
    }
    return forms[noun]() if noun in forms else noun


def count(value, noun: str = "", *, lang: str | None = None) -> str:
    """A count with thousands separators and its noun: "60.000 linjer" / "60,000 lines"."""
    amount = _decimal(value)
    if amount is None:
        return DASH
    text = number(amount, 0, lang=lang)
    if not noun:
        return text
    n = int(_round(abs(amount), 0))
    if lang is not None:
        with translation.override(_lang(lang)):
            return f"{text} {_nouns(noun, n)}"
    return f"{text} {_nouns(noun, n)}"


def percent(value, places: int = 1, *, lang: str | None = None) -> str:
    """A fraction 0..1 as "82,3 %" / "82.3 %"."""
    amount = _decimal(value)
    if amount is None:
        return DASH
    return f"{number(amount * 100, places, lang=lang)} %"
