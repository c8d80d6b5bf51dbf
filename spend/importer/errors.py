"""What a refused extract reports: one file-level reason, or every invalid row."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError

# The batch keeps this many errors for the page; the CSV report keeps them all.
ERRORS_KEPT = 1000


# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """The text, with a leading apostrophe when a spreadsheet would run it as a formula.

    The report echoes values from the uploaded file; "-1.234,50" or "=HYPERLINK(...)" must
    open as text, not as a calculation, in the officer's Excel (OWASP "CSV injection").
    """
    text = str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class RowError:
    """One invalid value: the row as a spreadsheet numbers it (header = row 1)."""

    row: int | None
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


class ImportRefused(ValidationError):
    """The whole file is refused; ``message`` names the problem, nothing is written."""

    def __init__(self, message: str, *, code: str = "refused", column: str = ""):
        super().__init__(message, code=code)
        self.column = column

    def as_row_error(self) -> RowError:
        return RowError(row=None, column=self.column, value="", reason=str(self.message))


class ErrorSink:
    """Collects every row error: the first ERRORS_KEPT in memory, all of them in a CSV file.

    The CSV (``;``-separated, UTF-8 with BOM) opens in a Danish Excel as it is.
    """

    HEADER = ("row", "column", "value", "reason")

    def __init__(self) -> None:
        self.count = 0
        self.first: list[RowError] = []
        self._file = None
        self._writer = None

    def add(self, error: RowError) -> None:
        self.count += 1
        if len(self.first) < ERRORS_KEPT:
            self.first.append(error)
        if self._writer is None:
            self._file = tempfile.TemporaryFile(mode="w+", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._file, delimiter=";")
            self._writer.writerow(self.HEADER)
        self._writer.writerow(
            (
                "" if error.row is None else error.row,
                spreadsheet_safe(error.column),
                spreadsheet_safe(error.value),
                spreadsheet_safe(error.reason),
            )
        )

    def extend(self, errors) -> None:
        for error in errors:
            self.add(error)

    def csv_bytes_file(self):
        """The full report as a binary file object positioned at its start (None if no errors)."""
        if self._file is None:
            return None
        self._file.flush()
        binary = self._file.buffer  # the encoded bytes, BOM included
        binary.seek(0)
        return binary

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None
