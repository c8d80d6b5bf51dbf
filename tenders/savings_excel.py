"""A savings report (tenders.savings_reports.Report) as an .xlsx workbook, through rfi/spreadsheet.

The same rows and figures as the page: money as numbers with a thousands format, price
reductions as fractions with a percentage format, so a controller can compute with them.
"""

from __future__ import annotations

from openpyxl.styles import Font

from rfi.spreadsheet import write
from tenders.savings_reports import MONEY, PERCENT, Report

MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.0%"


def _put(ws, row: int, column: int, value, unit: str) -> None:
    if value is None:
        return
    if unit == MONEY:
        write.cell(ws, row, column, float(value), MONEY_FORMAT)
    elif unit == PERCENT:
        write.cell(ws, row, column, float(value), PERCENT_FORMAT)
    else:
        write.cell(ws, row, column, value)


def savings_report_xlsx(report: Report) -> bytes:
    wb = write.new_workbook()
    ws = wb.active
    ws.title = write.sheet_title(report.title)
    write.cell(ws, 1, 1, report.title).font = Font(bold=True, size=13)
    write.cell(ws, 2, 1, report.description)
    row = 3
    for note in report.notes:
        write.cell(ws, row, 1, note)
        row += 1
    for label, value, unit in report.facts:
        write.cell(ws, row, 1, label)
        _put(ws, row, 2, value, unit)
        row += 1
    row += 1
    grouped = any(r.group for r in report.rows)
    headers = ([""] if grouped else []) + [""] + [str(c.label) for c in report.columns]
    widths = ([12] if grouped else []) + [40] + [20] * len(report.columns)
    write.header_row(ws, headers, widths, row=row)
    offset = 2 if grouped else 1
    for item in report.rows:
        row += 1
        if grouped:
            write.cell(ws, row, 1, item.group)
        write.cell(ws, row, offset, item.label)
        for index, column in enumerate(report.columns, start=offset + 1):
            _put(ws, row, index, item.values.get(column.key), column.unit)
    if report.totals is not None:
        row += 1
        write.cell(ws, row, offset, report.totals.label).font = write.BOLD
        for index, column in enumerate(report.columns, start=offset + 1):
            _put(ws, row, index, report.totals.values.get(column.key), column.unit)
    return write.workbook_bytes(wb)
