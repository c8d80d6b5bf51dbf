"""Any table of the spend pages as an .xlsx file (openpyxl).

Text that a spreadsheet could take for a formula (= + - @ …) is written as text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

MONEY_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.0"
INTEGER_FORMAT = "#,##0"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
SHEET_TITLE_MAX = 31


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, money, share (%), int
    width: int = 14


@dataclass
class Table:
    slug: str
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    # Lines above the header: what the table shows (region, year, filters).
    caption: list[str] = field(default_factory=list)
    # Where the page links to this table as .xlsx (same region, year and filters).
    export_url: str = ""


def _text_cell(cell, value: str) -> None:
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if value.startswith(FORMULA_TRIGGERS):
        # openpyxl stores "=…" as a formula; as a string cell with a quote prefix it stays
        # text in the file and when the user edits the cell.
        cell.data_type = "s"
        cell.quotePrefix = True


def _put(cell, value, kind: str) -> None:
    if value is None or value == "":
        return
    if kind == "money":
        cell.value = Decimal(value)
        cell.number_format = MONEY_FORMAT
    elif kind == "share":
        cell.value = Decimal(value)
        cell.number_format = SHARE_FORMAT
    elif kind == "int":
        cell.value = int(value)
        cell.number_format = INTEGER_FORMAT
    else:
        _text_cell(cell, str(value))


def _sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\").strip()
    return cleaned[:SHEET_TITLE_MAX] or "Sheet"


def table_xlsx(table: Table) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(table.title)
    row = 1
    for line in table.caption:
        _text_cell(ws.cell(row=row, column=1), str(line))
        row += 1
    if table.caption:
        row += 1
    bold = Font(bold=True)
    for col, column in enumerate(table.columns, start=1):
        cell = ws.cell(row=row, column=col)
        _text_cell(cell, str(column.label))
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(col)].width = column.width
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    for values in table.rows:
        row += 1
        for col, column in enumerate(table.columns, start=1):
            _put(ws.cell(row=row, column=col), values.get(column.key), column.kind)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
