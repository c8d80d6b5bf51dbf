"""The ledger upload's template: the columns in Danish and one example line, as .xlsx or .csv.

Both re-import as they are (the example line is a valid line), so a region can start from
them; every cell is written through rfi.spreadsheet.write (the formula guard).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rfi.spreadsheet import write
from spend.importer.columns import COLUMNS, DANISH_HEADERS

# The region column is left out: when present it must name the region on every line.
TEMPLATE_COLUMNS = tuple(name for name, _required in COLUMNS if name != "region")
EXAMPLE = {
    "posting_date": dt.date(2025, 1, 2),
    "voucher_no": "1001",
    "invoice_no": "F-1",
    "supplier_id": "12345678",
    "supplier_name": "Eksempel Hospitalsudstyr A/S",
    "account": "22110",
    "cost_centre": "4100",
    "amount": Decimal("1234.56"),
    "description": "Handsker nitril",
    "order_channel": "E-ordre",
    "category_code": "",
}


def template_headers() -> list[str]:
    return [DANISH_HEADERS[name] for name in TEMPLATE_COLUMNS]


def template_csv() -> bytes:
    """``;``-separated, Danish dates and amounts, UTF-8 with BOM (a Danish Excel opens it)."""
    row = []
    for name in TEMPLATE_COLUMNS:
        value = EXAMPLE[name]
        if isinstance(value, dt.date):
            value = value.strftime("%d-%m-%Y")
        elif isinstance(value, Decimal):
            value = f"{value:.2f}".replace(".", ",")
        row.append(value)
    return write.csv_bytes([template_headers(), row], delimiter=";")


def template_xlsx() -> bytes:
    wb = write.new_workbook()
    ws = wb.active
    ws.title = write.sheet_title("Posteringer")
    headers = template_headers()
    write.header_row(ws, headers, [max(12, len(h) + 4) for h in headers])
    for column, name in enumerate(TEMPLATE_COLUMNS, start=1):
        value = EXAMPLE[name]
        number_format = (
            "DD-MM-YYYY"
            if isinstance(value, dt.date)
            else "#,##0.00"
            if isinstance(value, Decimal)
            else None
        )
        write.cell(ws, 2, column, value or None, number_format)
    return write.workbook_bytes(wb)
