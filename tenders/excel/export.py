"""The plan and the status report as .xlsx, in the layout of layout.py.

Every cell is written through rfi.spreadsheet.write: text never runs as a formula.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from rfi.models import Region
from rfi.spreadsheet import write
from tenders import selectors
from tenders.excel.layout import (
    PARTICIPATION_COLUMNS,
    TENDER_COLUMNS,
    WORDS,
    Column,
    active_language,
    header_text,
    plan_sheet_title,
    word_for,
)
from tenders.models import Participation, TenderCase

MONEY_FORMAT = "#,##0"
DATE_FORMAT = "dd-mm-yyyy"
AVERAGE_FORMAT = "0.0"


def _put(ws, row: int, col: int, value, kind: str, language: str) -> None:
    if value is None or value == "":
        return
    cell = ws.cell(row=row, column=col)
    if kind == "date":
        cell.value = value
        cell.number_format = DATE_FORMAT
    elif kind == "money":
        cell.value = value
        cell.number_format = MONEY_FORMAT
    elif kind in WORDS:
        write.text_cell(cell, word_for(kind, value, language))
    else:
        write.text_cell(cell, str(value))


def _plan_columns(regions: list[Region]) -> list[tuple[Column, Region | None]]:
    columns: list[tuple[Column, Region | None]] = [(c, None) for c in TENDER_COLUMNS]
    for column in PARTICIPATION_COLUMNS:
        columns.extend((column, region) for region in regions)
    return columns


def _tender_value(tender: TenderCase, column: Column):
    if column.key == "category":
        return tender.category.full_code
    if column.key == "lead_region":
        return tender.lead_region.code if tender.lead_region else None
    if column.key == "lead_partner":
        return tender.lead_partner.code if tender.lead_partner else None
    return getattr(tender, column.key)


def _participation_value(participation: Participation | None, column: Column):
    if participation is None:
        return None
    if column.key == "opt_out_reason":
        return participation.opt_out_reason.code if participation.opt_out_reason else None
    return getattr(participation, column.key)


def _write_plan(ws, tenders, language: str) -> int:
    """The plan, one row per case; returns the number of rows written."""
    regions = list(Region.objects.filter(active=True))
    columns = _plan_columns(regions)
    write.header_row(
        ws,
        [header_text(c, language, r.code if r else None) for c, r in columns],
        [c.width for c, _r in columns],
    )
    grid = selectors.participation_grid(tenders)
    tenders = list(tenders)
    for row, tender in enumerate(tenders, start=2):
        participations = grid.get(tender.pk, {})
        for col, (column, region) in enumerate(columns, start=1):
            if region is None:
                value = _tender_value(tender, column)
            else:
                value = _participation_value(participations.get(region.code), column)
            _put(ws, row, col, value, column.kind, language)
    last = max(len(tenders) + 1, 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last}"
    return len(tenders)


def plan_export(queryset) -> bytes:
    """The given tender cases as an .xlsx workbook, headers in the active language."""
    language = active_language()
    wb = write.new_workbook()
    ws = wb.active
    ws.title = plan_sheet_title(language)
    _write_plan(ws, queryset.select_related("category", "lead_region", "lead_partner"), language)
    return write.workbook_bytes(wb)


def status_report_export(*, as_of=None) -> bytes:
    """The status report (selectors.status_report) on one sheet, the whole plan on a second."""
    language = active_language()
    report = selectors.status_report(as_of=as_of)
    wb = write.new_workbook()
    ws = wb.active
    ws.title = _("Status report")[:31]
    write.header_row(
        ws,
        [_("Phase"), _("Area"), _("Joint tenders"), _("Annual contract sum")],
        [28, 28, 16, 22],
    )
    phases = {
        "upcoming_current": _("Upcoming and current"),
        "in_contract": _("In contract period"),
    }
    row = 2
    for phase, phase_label in phases.items():
        for area in TenderCase.Area.values:
            cell = report["cells"][f"{phase}.{area}"]
            write.text_cell(ws.cell(row=row, column=1), str(phase_label))
            write.text_cell(ws.cell(row=row, column=2), word_for("area", area, language))
            ws.cell(row=row, column=3, value=cell["tenders"])
            money = ws.cell(row=row, column=4, value=cell["annual_value"])
            money.number_format = MONEY_FORMAT
            row += 1
    bold = Font(bold=True)
    write.text_cell(ws.cell(row=row, column=1), _("Total"))
    ws.cell(row=row, column=3, value=report["tenders"]).font = bold
    total = ws.cell(row=row, column=4, value=report["annual_value"])
    total.number_format = MONEY_FORMAT
    total.font = bold
    row += 2
    averages = (
        (_("Average participating regions per tender (lead included)"), "regions_per_tender"),
        (_("Average joint tenders per region"), "tenders_per_region"),
    )
    for label, key in averages:
        write.text_cell(ws.cell(row=row, column=1), label)
        if report[key] is not None:
            average = ws.cell(row=row, column=3, value=round(report[key], 2))
            average.number_format = AVERAGE_FORMAT
        row += 1
    row += 1
    write.text_cell(ws.cell(row=row, column=1), _("Region"))
    write.text_cell(ws.cell(row=row, column=3), _("Joint tenders taken part in"))
    ws.cell(row=row, column=1).font = bold
    ws.cell(row=row, column=3).font = bold
    for region in Region.objects.filter(active=True):
        row += 1
        write.text_cell(ws.cell(row=row, column=1), f"{region.code} {region.name}")
        ws.cell(row=row, column=3, value=report["per_region"].get(region.code, 0))

    plan = wb.create_sheet(plan_sheet_title(language))
    _write_plan(plan, selectors.tender_list(), language)
    return write.workbook_bytes(wb)
