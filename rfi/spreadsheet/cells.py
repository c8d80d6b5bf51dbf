"""Reading one cell of an imported sheet: dates and amounts in Danish and English spelling.

Shared by the plan import (tenders.excel) and the contract import (suppliers.importer).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from rfi.spreadsheet.errors import CellError

__all__ = ["CellError", "parse_date", "parse_money"]


DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})[-./](\d{1,2})[-./](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
)


def parse_date(raw) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 1 <= raw < 2958466:
        # An Excel serial day number in a cell without a date format.
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(raw))
    text = str(raw).strip().split(" ")[0].split("T")[0]
    for pattern, order in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            try:
                return dt.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                break
    raise CellError(_("Not a date: write it as dd-mm-yyyy."))


AMOUNT_SHAPE = re.compile(r"^-?(\d+|\d{1,3}([.,]\d{3})+)([.,]\d+)?$")


def parse_money(raw, *, decimal_comma: bool) -> Decimal:
    if isinstance(raw, bool):
        raise CellError(_("Not an amount."))
    if isinstance(raw, int | float | Decimal):
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    else:
        text = re.sub(r"(?i)\s|kr\.?|dkk", "", str(raw).replace("\xa0", ""))
        if not AMOUNT_SHAPE.match(text):
            # "12,34,5" is no amount: thousands groups have three digits.
            raise CellError(_("Not an amount."))
        text = normalise_separators(text, decimal_comma=decimal_comma)
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise CellError(_("Not an amount.")) from exc
    if not value.is_finite():
        raise CellError(_("Not an amount."))
    if value < 0:
        raise CellError(_("The amount cannot be negative."))
    value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if len(value.as_tuple().digits) > 15:
        raise CellError(_("The amount is too large."))
    return value


def normalise_separators(text: str, *, decimal_comma: bool) -> str:
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text or "." in text:
        mark = "," if "," in text else "."
        if text.count(mark) > 1:
            decimal = "." if mark == "," else ","
        elif (mark == ",") == decimal_comma:
            decimal = mark
        else:
            # A lone separator the other convention uses: "1.500" in a Danish file is 1500.
            decimal = mark if not re.search(rf"\{mark}\d{{3}}$", text) else ""
    else:
        decimal = "."
    thousands = {",", "."} - {decimal}
    for mark in thousands:
        text = text.replace(mark, "")
    return text.replace(decimal, ".") if decimal else text
