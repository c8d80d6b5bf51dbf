"""The listing as open data: CSV and xlsx of every case the filter selects, public fields only.

CSV opens in a Danish Excel by double-click: semicolon-separated, decimal comma, UTF-8
with a byte-order mark (so Excel reads the Danish letters), ISO dates (Excel reads them
as dates). ``?format=international`` gives the form most programs expect: comma-separated,
decimal point (still UTF-8 with the mark). xlsx is for people:
typed date and number cells. Both have one row per case, the same columns, and
headers in the visitor's language. Both are written through rfi.spreadsheet.write: a
title typed as ``=HYPERLINK(…)`` is text in either file, never a formula.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from rfi.spreadsheet import write
from rfi.validation import printable
from suppliers.public.selectors import TABS, BadQuery, filter_public_tenders, public_regions, tab_of
from suppliers.public.views import PublicRow, serve_file
from tenders.models import TenderCase

XLSX_TYPE = write.XLSX_TYPE


def _columns() -> list[str]:
    return [
        _("Reference"),
        _("Title"),
        _("Phase"),
        _("Category (CPV)"),
        _("Category"),
        _("Kind"),
        _("Area"),
        _("Lead"),
        _("Participating regions"),
        _("On an option"),
        _("Expected tender start (quarter)"),
        _("Expected tender start"),
        _("Publication"),
        _("Contract start"),
        _("Contract end"),
        _("Estimated annual value"),
        _("Link"),
    ]


def export_rows(request) -> list[list]:
    """One list of typed values per selected case, in the listing's order."""
    tender_filter = filter_public_tenders(request.GET)
    tabs = dict(TABS)
    rows = []
    for tender in tender_filter.qs:
        row = PublicRow(tender, public_regions(tender))
        tab = tab_of(tender, today=tender_filter.today)
        rows.append(
            [
                tender.reference,
                # A title stored before text was checked on entry must not break the file.
                printable(tender.title, multiline=False),
                str(tabs[tab] if tab else TenderCase.Status(tender.status).label),
                tender.category.full_code,
                tender.category.label,
                tender.get_kind_display(),
                tender.get_area_display(),
                tender.lead_name,
                ", ".join(r.region.name for r in row.full),
                ", ".join(r.region.name for r in row.option),
                row.quarter,
                tender.expected_tender_start,
                tender.publication_date,
                tender.contract_start,
                tender.contract_end,
                tender.estimated_annual_value,
                request.build_absolute_uri(reverse("public:detail", args=[tender.reference])),
            ]
        )
    return rows


CSV_FORMATS = {
    # name: (separator, decimal mark)
    "danish": (";", ","),
    "international": (",", "."),
}
CSV_DEFAULT_FORMAT = "danish"


def csv_format(request) -> tuple[str, str]:
    """(separator, decimal mark) of ``?format=``: danish (the default) or international."""
    name = request.GET.get("format", "") or CSV_DEFAULT_FORMAT
    if name not in CSV_FORMATS:
        raise BadQuery([_("format: give “danish” (the default) or “international”.")])
    return CSV_FORMATS[name]


def _csv(request) -> HttpResponse:
    separator, mark = csv_format(request)
    content = write.csv_bytes(
        [_columns(), *export_rows(request)],
        delimiter=separator,
        decimal_mark=mark,
        lineterminator="\r\n",
    )
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="udbud.csv"'
    return response


def _xlsx(request) -> HttpResponse:
    rows = export_rows(request)
    workbook = write.new_workbook(write_only=True)
    sheet = workbook.create_sheet(write.sheet_title(_("Joint tenders")))
    sheet.freeze_panes = "A2"
    widths = [14, 50, 14, 13, 40, 20, 24, 24, 40, 30, 12, 12, 12, 12, 12, 16, 40]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([write.write_only_cell(sheet, title, font=write.BOLD) for title in _columns()])
    date_columns = {11, 12, 13, 14}
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            number_format = None
            if index in date_columns:
                number_format = "DD-MM-YYYY"
            elif index == 15:
                number_format = "#,##0"
            cells.append(write.write_only_cell(sheet, value, number_format))
        sheet.append(cells)
    response = HttpResponse(write.workbook_bytes(workbook), content_type=write.XLSX_TYPE)
    response["Content-Disposition"] = 'attachment; filename="udbud.xlsx"'
    return response


def csv_export(request) -> HttpResponse:
    """/udbud/udbud.csv: the listing's cases for the query parameters."""
    return serve_file(request, "csv", _csv)


def xlsx_export(request) -> HttpResponse:
    """/udbud/udbud.xlsx: the same as an Excel workbook."""
    return serve_file(request, "xlsx", _xlsx)
