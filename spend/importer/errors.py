"""What a refused extract reports: one file-level reason, or every invalid row."""

from __future__ import annotations

import tempfile

from rfi.spreadsheet.errors import FileRefused, RowError
from rfi.spreadsheet.write import CsvWriter

# The batch keeps this many errors for the page; the CSV report keeps them all.
ERRORS_KEPT = 1000


# The one error type every spreadsheet check raises (rfi.spreadsheet), by its ledger name.
ImportRefused = FileRefused


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
            self._writer = CsvWriter(self._file, delimiter=";")
            self._writer.writerow(self.HEADER)
        self._writer.writerow(
            (
                "" if error.row is None else error.row,
                str(error.column),
                str(error.value),
                str(error.reason),
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
