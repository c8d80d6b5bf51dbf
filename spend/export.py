"""Any table of the spend pages as an .xlsx file (openpyxl).

Written through rfi.spreadsheet.write: text that a spreadsheet could take for a formula
(= + - @ …) is written as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from rfi.spreadsheet import write

MONEY_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.0"
INTEGER_FORMAT = "#,##0"


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
        write.text_cell(cell, str(value))


def table_xlsx(table: Table) -> bytes:
    wb = write.new_workbook()
    ws = wb.active
    ws.title = write.sheet_title(table.title)
    row = 1
    for line in table.caption:
        write.text_cell(ws.cell(row=row, column=1), str(line))
        row += 1
    if table.caption:
        row += 1
    write.header_row(
        ws, [str(c.label) for c in table.columns], [c.width for c in table.columns], row=row
    )
    for values in table.rows:
        row += 1
        for col, column in enumerate(table.columns, start=1):
            _put(ws.cell(row=row, column=col), values.get(column.key), column.kind)
    return write.workbook_bytes(wb)
