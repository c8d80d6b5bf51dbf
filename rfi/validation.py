"""What people type is checked where it enters, and read safely where it leaves.

One rule for text and one for dates, used by every write service (forms, the API and
the imports all go through those services), and two readers for the public files, which
must keep working on rows stored before these rules existed:

- **Text** refuses control characters (they break XML feeds, iCalendar and xlsx for
  every reader). Newline and tab are allowed in long texts (``TextField``), never in
  one-line fields. Lone surrogates and the non-characters U+FFFE/U+FFFF are refused too.
- **Dates** must lie in the plausible range ``PLAUSIBLE_DATES`` (settings; default
  2000-01-01 to 2099-12-31): a typo such as 9999-12-31 is refused with the range.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

# C0 controls but tab/newline/carriage return, DEL, C1 controls, surrogates, U+FFFE/U+FFFF.
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CONTROL_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def plausible_dates() -> tuple[dt.date, dt.date]:
    first, last = getattr(settings, "PLAUSIBLE_DATES", ("2000-01-01", "2099-12-31"))
    return dt.date.fromisoformat(str(first)), dt.date.fromisoformat(str(last))


def text_error(value: str, *, multiline: bool) -> str | None:
    """The reason ``value`` is refused, or None. Names the character and its position."""
    pattern = _CONTROL_MULTILINE if multiline else _CONTROL_ONE_LINE
    found = pattern.search(value)
    if found is None:
        return None
    char = found.group()
    if char in "\n\r\t":
        return _("Line breaks and tabs are not allowed here (position %(pos)d).") % {
            "pos": found.start() + 1
        }
    return _(
        "The text holds an invisible control character (U+%(code)04X at position %(pos)d)."
    ) % {
        "code": ord(char),
        "pos": found.start() + 1,
    }


def date_error(value: dt.date) -> str | None:
    first, last = plausible_dates()
    if isinstance(value, dt.datetime):
        value = value.date()
    if first <= value <= last:
        return None
    return _("%(date)s is outside the plausible range %(first)s to %(last)s.") % {
        "date": value.strftime("%d-%m-%Y"),
        "first": first.strftime("%d-%m-%Y"),
        "last": last.strftime("%d-%m-%Y"),
    }


def value_errors(instance: models.Model, *, fields=None, exclude=()) -> dict[str, list[str]]:
    """Control characters and implausible dates on ``instance``, by field name."""
    errors: dict[str, list[str]] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude or (fields is not None and field.name not in fields):
            continue
        value = getattr(instance, field.attname, None)
        if value is None or value == "":
            continue
        message = None
        if isinstance(field, (models.CharField, models.TextField)) and isinstance(value, str):
            message = text_error(value, multiline=isinstance(field, models.TextField))
        elif isinstance(field, models.DateField) and isinstance(value, dt.date):
            message = date_error(value)
        if message:
            errors.setdefault(field.name, []).append(message)
    return errors


def check_values(instance: models.Model, *, fields=None, exclude=()) -> None:
    """Raise one ValidationError naming every refused field of ``instance``."""
    errors = value_errors(instance, fields=fields, exclude=exclude)
    if errors:
        raise ValidationError(errors)


def merge_errors(errors: dict[str, list], instance: models.Model, **kwargs) -> dict:
    """Add ``instance``'s text/date errors to a service's own error dict."""
    for name, messages in value_errors(instance, **kwargs).items():
        errors.setdefault(name, []).extend(messages)
    return errors


# Readers for public files: never fail on a row stored before the rules above. -------------


def printable(value, *, multiline: bool = True) -> str:
    """``value`` as text without the characters XML, iCalendar and xlsx cannot hold."""
    if value is None:
        return ""
    text = _CONTROL_MULTILINE.sub("", str(value))
    return text if multiline else re.sub(r"[\n\r\t]+", " ", text)


def plausible_or_none(value: dt.date | None) -> dt.date | None:
    """``value`` if it lies in the plausible range, else None (shown as "not set")."""
    if value is None or date_error(value) is not None:
        return None
    return value
