"""CPV codes as people type them, and the "covering prefix" rule, in one place.

A CPV 2008 code is eight digits and a check digit: ``33141000-0``. People type it with
or without the check digit, sometimes with spaces; ``parse_code`` reads every form and
refuses a check digit that does not match the category tree (the loaded ``Category``
rows are the authority: the check digits follow no public formula).

A contract's category covers the codes that start with its *significant prefix*: the
code without its trailing zeros, the two division digits always kept (``33140000`` →
``3314``, ``45000000`` → ``45``). ``significant_prefix`` is that rule in Python;
``significant_prefix_sql`` and ``spend.matching.contract_category_prefix`` are the same
rule in SQL and the ORM, tested against it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rfi.models import Category

CODE_PATTERN = re.compile(r"^(\d{8})(?:-(\d))?$")
DIVISION_DIGITS = 2

MESSAGES = {
    "format": _("Type a CPV code of eight digits, e.g. 33141000 or 33141000-0."),
    "unknown": _("The CPV code %(code)s does not exist."),
    "check_digit": _("The check digit of %(code)s is %(digit)s, not %(given)s."),
}


def _compact(text: object) -> str:
    return "".join(str(text if text is not None else "").split())


def _split(text: object) -> tuple[str, str | None]:
    match = CODE_PATTERN.match(_compact(text))
    if not match:
        raise ValidationError(MESSAGES["format"], code="format")
    return match.group(1), match.group(2)


def _check(code: str, given: str | None, digit: str | None) -> None:
    if given is not None and digit is not None and digit != given:
        raise ValidationError(
            MESSAGES["check_digit"],
            code="check_digit",
            params={"code": code, "digit": digit, "given": given},
        )


def parse_code(text: object, *, check_digits: Mapping[str, str] | None = None) -> str:
    """The eight digits of "33141000-0", "33141000" or " 33141000 - 0 "; the check digit checked.

    A given check digit is compared with the category tree: ``check_digits`` (code →
    digit) when the caller holds it, e.g. an importer reading many rows, else one query.
    A code the tree does not hold passes; whether it must exist is the caller's rule
    (``category_by_code``).
    """
    code, given = _split(text)
    if given is not None:
        if check_digits is not None:
            digit = check_digits.get(code)
        else:
            digit = Category.objects.filter(code=code).values_list("check_digit", flat=True).first()
        _check(code, given, digit)
    return code


def category_by_code(
    text: object, *, lookup: Callable[[str], Category | None] | None = None
) -> Category:
    """The existing Category of a typed CPV code, with or without its (checked) check digit.

    ``lookup`` finds a category by its eight digits (an importer's cache); else one query.
    """
    code, given = _split(text)
    if lookup is None:
        category = Category.objects.filter(code=code).first()
    else:
        category = lookup(code)
    if category is None:
        raise ValidationError(MESSAGES["unknown"], code="unknown", params={"code": code})
    _check(code, given, category.check_digit)
    return category


def significant_prefix(code: str) -> str:
    """The digits a category covers: trailing zeros removed, the division kept (3314, 45)."""
    digits = "".join(ch for ch in str(code).split("-", 1)[0] if ch.isdigit())[:8]
    return digits[:DIVISION_DIGITS] + digits[DIVISION_DIGITS:].rstrip("0")


def significant_prefix_sql(column: str) -> str:
    """``significant_prefix`` as an SQL expression over a code column (SQLite and PostgreSQL)."""
    return f"(SUBSTR({column}, 1, 2) || RTRIM(SUBSTR({column}, 3), '0'))"
