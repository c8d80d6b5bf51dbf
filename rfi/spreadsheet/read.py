"""Reading what checks.py let through: decoding, separator sniffing, the rows of a sheet.

Danish exports are UTF-8 with or without a byte-order mark, or Windows-1252 (Excel's
"CSV (semikolonsepareret)"); the separator is ``;`` in a Danish Excel, ``,`` elsewhere,
sometimes a tab. Workbooks are read with python-calamine (fast, no formulas evaluated,
no XML entities resolved), after checks.check_xlsx.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

from django.utils.translation import gettext as _

from rfi.spreadsheet.checks import BLOCK, binary
from rfi.spreadsheet.errors import FileRefused

SEPARATORS = (";", "\t", ",")


def decode(data: bytes) -> str:
    """UTF-8 (a BOM dropped), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def scan_encoding(path: Path) -> tuple[str, int]:
    """(``utf-8`` if the whole file decodes as UTF-8, else ``cp1252`` if it decodes as that,
    number of lines), streaming; binary data (NUL bytes) is refused."""
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        lines = 0
        try:
            with Path(path).open("rb") as fh:
                while block := fh.read(BLOCK):
                    if b"\x00" in block:
                        raise binary()
                    decoder.decode(block)
                    lines += block.count(b"\n")
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding, lines
    raise FileRefused(
        _(
            "The file is neither UTF-8 nor Windows-1252 text (it may be binary). "
            "Save the extract as CSV UTF-8."
        ),
        code="encoding",
    )


def sniff_separator(header_line: str) -> str | None:
    """The separator the header line uses most: ``;``, tab or ``,`` (outside quotes);
    None when it has none."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {sep: unquoted.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else None


def csv_rows(data: bytes) -> tuple[list[list[str]], str | None]:
    """Every row of a small CSV file (decoded, separator sniffed), and the separator."""
    text = decode(data)
    first_line = text.split("\n", 1)[0]
    separator = sniff_separator(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator or ",")
    return [list(row) for row in reader], separator


def xlsx_sheets(data: bytes) -> list[list[list]]:
    """The rows of every sheet of a checked workbook (checks.check_xlsx), with calamine."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return [
            workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
            for index in range(len(workbook.sheet_names))
        ]
    except Exception as exc:  # noqa: BLE001 – calamine has its own error type for each fault
        raise FileRefused(
            _("The Excel file is damaged or not a valid .xlsx workbook (%(error)s).")
            % {"error": str(exc)[:200] or exc.__class__.__name__},
            code="xlsx_damaged",
        ) from exc
