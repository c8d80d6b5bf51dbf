"""Excel in and out of the joint tender plan: the .xlsx export, the status report, the import.

- ``layout``: the columns, their Danish and English headers, the words in the cells
- ``export``: the plan and the status report as .xlsx (rfi.spreadsheet.write)
- ``importer``: the checked, all-or-nothing import (rfi.spreadsheet.checks, public services)
"""

from rfi.spreadsheet.cells import CellError, parse_date, parse_money
from rfi.spreadsheet.errors import RowError
from tenders.excel.export import plan_export, status_report_export
from tenders.excel.importer import ImportResult, UnreadableFile, plan_import, read_rows
from tenders.excel.layout import (
    PARTICIPATION_COLUMNS,
    TENDER_COLUMNS,
    export_filename,
    plan_sheet_title,
)

__all__ = [
    "PARTICIPATION_COLUMNS",
    "TENDER_COLUMNS",
    "CellError",
    "ImportResult",
    "RowError",
    "UnreadableFile",
    "export_filename",
    "parse_date",
    "parse_money",
    "plan_export",
    "plan_import",
    "plan_sheet_title",
    "read_rows",
    "status_report_export",
]
