"""Every CSV and .xlsx the application writes, with the one formula guard.

A spreadsheet runs a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula (OWASP "CSV injection"): an officer's title
``=HYPERLINK("http://x","y")`` would become a live link in every downloaded file.

- In a CSV such text gets a leading apostrophe (``'=HYPERLINK(…)``), which Excel and
  LibreOffice show as text.
- In an .xlsx it is written as a string cell with the quote prefix, so the value stays
  exactly what was typed, opens as text, and stays text when the user edits the cell.

Numbers, dates and booleans are written as they are: only text is guarded, so -12.5 stays
a number. Characters an .xlsx cannot hold (control characters) are dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

# The OWASP list of characters that start a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE_MAX = 31
BOLD = Font(bold=True)


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def guard(text) -> str:
    """Text for a CSV cell: with a leading apostrophe when a spreadsheet would run it."""
    text = str(text)
    return "'" + text if looks_like_formula(text) else text


# CSV -------------------------------------------------------------------------------------------


def csv_value(value, decimal_mark: str = "."):
    """A value as a CSV cell: text guarded, dates ISO, None empty, numbers as they are.

    With ``decimal_mark=","`` (a Danish Excel's CSV) a decimal or float is written with a
    decimal comma and no thousands separator; being a number it is never guarded.
    """
    if value is None:
        return ""
    if isinstance(value, float | Decimal) and decimal_mark != ".":
        text = f"{value:f}" if isinstance(value, Decimal) else repr(value)
        return text.replace(".", decimal_mark)
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return guard(value)


class CsvWriter:
    """csv.writer whose every row passes through csv_value."""

    def __init__(self, stream, *, decimal_mark: str = ".", **options):
        self._writer = csv.writer(stream, **options)
        self._decimal_mark = decimal_mark

    def writerow(self, row: Iterable):
        return self._writer.writerow([csv_value(v, self._decimal_mark) for v in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(
    rows: Iterable[Iterable],
    *,
    delimiter: str = ",",
    lineterminator="\r\n",
    decimal_mark: str = ".",
) -> str:
    buffer = io.StringIO()
    CsvWriter(
        buffer, delimiter=delimiter, lineterminator=lineterminator, decimal_mark=decimal_mark
    ).writerows(rows)
    return buffer.getvalue()


def csv_bytes(
    rows: Iterable[Iterable],
    *,
    delimiter: str = ",",
    bom: bool = True,
    lineterminator="\r\n",
    decimal_mark: str = ".",
) -> bytes:
    """UTF-8 CSV bytes; with a byte-order mark (the default) a Danish Excel reads æøå.

    A Danish Excel opens ``delimiter=";", decimal_mark=","`` by double-click.
    """
    text = csv_text(
        rows, delimiter=delimiter, lineterminator=lineterminator, decimal_mark=decimal_mark
    )
    return text.encode("utf-8-sig" if bom else "utf-8")


# XLSX ------------------------------------------------------------------------------------------


def clean_text(value) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def text_cell(cell, value) -> None:
    """Write text that never runs as a formula, whatever it starts with."""
    value = clean_text(value)
    cell.value = value
    if looks_like_formula(value) or cell.data_type == "f":
        # openpyxl would store "=…" as a formula; a string cell with a quote prefix
        # stays text in the file and when the user edits the cell in Excel.
        cell.data_type = "s"
        cell.quotePrefix = True


def put(cell, value, number_format: str | None = None) -> None:
    """Any value into a cell: text guarded (text_cell), numbers and dates typed."""
    if value is None:
        return
    if isinstance(value, str) or not isinstance(
        value, bool | int | float | Decimal | dt.date | dt.datetime | dt.time
    ):
        text_cell(cell, value)
        return
    cell.value = value
    if number_format:
        cell.number_format = number_format


def cell(ws, row: int, column: int, value=None, number_format: str | None = None):
    """ws.cell(row, column) with ``value`` written through put (use this, not value=)."""
    target = ws.cell(row=row, column=column)
    put(target, value, number_format)
    return target


def write_only_cell(sheet, value, number_format: str | None = None, font=None) -> WriteOnlyCell:
    """A cell for a write-only sheet, the same guard as text_cell."""
    target = WriteOnlyCell(sheet)
    put(target, value, number_format)
    if font is not None:
        target.font = font
    return target


def header_row(ws, headers: list[str], widths: list[int], *, row: int = 1) -> None:
    """Bold, wrapped headers with column widths, the rows below frozen."""
    for col, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        target = ws.cell(row=row, column=col)
        text_cell(target, text)
        target.font = BOLD
        target.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in clean_text(title) if ch not in "[]:*?/\\").strip()
    return cleaned[:SHEET_TITLE_MAX] or "Sheet"


def new_workbook(*, write_only: bool = False) -> Workbook:
    return Workbook(write_only=write_only)


def workbook_bytes(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
