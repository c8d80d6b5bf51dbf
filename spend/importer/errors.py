"""What a refused extract reports: one file-level reason, or every invalid row."""

from __future__ import annotations

import tempfile

from django.utils.translation import gettext as _

from rfi.spreadsheet.errors import FileRefused, RowError
from rfi.spreadsheet.write import CsvWriter

# The batch keeps this many errors for the page. The CSV report keeps the first
# settings.LEDGER_ERROR_REPORT_ROWS (default 10,000) and never grows past the upload's own
# size: a junk file of 50 MB must not leave a report of 400 MB. Its last line gives the
# total. A value is kept to VALUE_CHARS characters in both.
ERRORS_KEPT = 1000
VALUE_CHARS = 200


# The one error type every spreadsheet check raises (rfi.spreadsheet), by its ledger name.
ImportRefused = FileRefused


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + "…"


class ErrorSink:
    """Collects every row error: the first ERRORS_KEPT in memory, the first ``max_rows`` (and
    at most ``max_bytes``) in a CSV file, and the count of all of them.

    The CSV (``;``-separated, UTF-8 with BOM) opens in a Danish Excel as it is.
    """

    HEADER = ("row", "column", "value", "reason")

    def __init__(self, *, max_rows: int | None = None, max_bytes: int | None = None) -> None:
        self.count = 0
        self.written = 0
        self.first: list[RowError] = []
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._file = None
        self._writer = None
        self._totalled = False

    def add(self, error: RowError) -> None:
        self.count += 1
        error = RowError(error.row, error.column, _short(error.value), error.reason)
        if len(self.first) < ERRORS_KEPT:
            self.first.append(error)
        if self.max_rows is not None and self.written >= self.max_rows:
            return
        if self._writer is None:
            self._file = tempfile.TemporaryFile(mode="w+", encoding="utf-8-sig", newline="")
            self._writer = CsvWriter(self._file, delimiter=";")
            self._writer.writerow(self.HEADER)
        if self.max_bytes is not None and self._file.tell() > self.max_bytes:
            return
        self._writer.writerow(
            (
                "" if error.row is None else error.row,
                str(error.column),
                str(error.value),
                str(error.reason),
            )
        )
        self.written += 1

    def extend(self, errors) -> None:
        for error in errors:
            self.add(error)

    def csv_bytes_file(self):
        """The report as a binary file object positioned at its start (None if no errors).

        When errors were left out, the last line says how many there are in all."""
        if self._file is None:
            return None
        if self.written < self.count and not self._totalled:
            self._totalled = True
            self._writer.writerow(
                (
                    "",
                    "",
                    "",
                    _(
                        "%(shown)s of %(total)s errors are listed; correct these and upload "
                        "the file again to see the rest."
                    )
                    % {"shown": self.written, "total": self.count},
                )
            )
        self._file.flush()
        binary = self._file.buffer  # the encoded bytes, BOM included
        binary.seek(0)
        return binary

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None
