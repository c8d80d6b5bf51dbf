"""Read an extract in chunks of raw text columns, each value with its spreadsheet row number.

CSV goes through pyarrow's streaming reader (one block at a time, so memory stays flat
however long the file): every value is read as text, validation decides what it means.
A row with more or fewer fields than the header is reported, not guessed at. XLSX is
read with python-calamine (openpyxl if calamine is missing or fails), row by row.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from spend.importer.columns import ColumnMap
from spend.importer.detect import TextFile
from spend.importer.errors import ImportRefused, RowError

CSV_BLOCK_BYTES = 8 << 20
XLSX_CHUNK_ROWS = 50_000


@dataclass
class RawChunk:
    """Some consecutive rows: canonical column → text values, and their row numbers."""

    columns: dict[str, pa.Array]
    rows: pa.Array
    errors: list[RowError] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return len(self.rows)


def _drop_blank(columns: dict[str, pa.Array], rows: pa.Array) -> tuple[dict, pa.Array]:
    """Leave out rows whose every value is empty (blank lines, trailing empty rows)."""
    if not columns or not len(rows):
        return columns, rows
    blank = None
    # Most chunks have no empty posting date at all: then no row is blank, stop there.
    for values in sorted(columns.values(), key=lambda v: v is not columns.get("posting_date")):
        empty = pc.equal(pc.binary_length(values), 0)
        blank = empty if blank is None else pc.and_(blank, empty)
        if not pc.any(blank).as_py():
            return columns, rows
    keep = pc.invert(blank)
    return {name: values.filter(keep) for name, values in columns.items()}, rows.filter(keep)


_COUNTING = pa.array([], pa.int64())


def row_numbers(first: int, count: int) -> pa.Array:
    """``first, first + 1, …`` (count of them), without a Python loop per row."""
    global _COUNTING
    if len(_COUNTING) < count:
        _COUNTING = pa.array(range(max(count, 100_000)), pa.int64())
    return pc.add(_COUNTING.slice(0, count), first)


# CSV -------------------------------------------------------------------------------------------


class CsvChunks:
    """Chunks of a CSV text file (see detect.inspect_text for encoding and separator)."""

    def __init__(self, text: TextFile, columns: ColumnMap):
        self.text = text
        self.columns = columns
        self.expected = len(text.headers)
        self._invalid: deque[tuple[int, tuple | None]] = deque()

    def _on_invalid_row(self, row) -> str:
        # pyarrow may call this from its own thread: keep the facts, word them later (in
        # the caller's thread, whose language is active).
        if row.text.strip():
            facts = (row.actual_columns, row.expected_columns, row.text[:200])
        else:
            facts = None  # a blank line: skipped, but it still has a row number
        self._invalid.append((row.number, facts))
        return "skip"

    @staticmethod
    def _error(number: int, facts) -> RowError | None:
        if facts is None:
            return None
        actual, expected, text = facts
        reason = _("has %(actual)d fields where the header has %(expected)d") % {
            "actual": actual,
            "expected": expected,
        }
        if actual > expected:
            reason += " " + _("(a separator or quote inside a value?)")
        return RowError(number, "", text, reason)

    def __iter__(self) -> Iterator[RawChunk]:
        names = [f"c{i}" for i in range(self.expected)]
        wanted = {f"c{pos}": canonical for canonical, pos in self.columns.positions.items()}
        reader = pa_csv.open_csv(
            self.text.path,
            read_options=pa_csv.ReadOptions(
                use_threads=False,  # the invalid-row handler then knows row numbers
                block_size=CSV_BLOCK_BYTES,
                skip_rows=1,
                column_names=names,
                encoding="utf8" if self.text.encoding == "utf-8" else self.text.encoding,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=self.text.separator,
                quote_char='"',
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=self._on_invalid_row,
            ),
            convert_options=pa_csv.ConvertOptions(
                include_columns=list(wanted),
                column_types={name: pa.string() for name in wanted},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        next_row = 2  # the header is row 1
        for batch in reader:
            count = batch.num_rows
            rows, errors, next_row = self._numbers(next_row, count)
            columns = {wanted[name]: batch.column(name) for name in wanted}
            columns, rows = _drop_blank(columns, rows)
            yield RawChunk(columns=columns, rows=rows, errors=errors)
        # Invalid rows after the last valid one.
        errors = [self._error(number, facts) for number, facts in self._invalid if facts]
        self._invalid.clear()
        if errors:
            yield RawChunk(
                columns={canonical: pa.array([], pa.string()) for canonical in wanted.values()},
                rows=pa.array([], pa.int64()),
                errors=errors,
            )

    def _numbers(self, first: int, count: int) -> tuple[pa.Array, list[RowError], int]:
        """Number ``count`` valid rows from ``first``, stepping over rows reported invalid."""
        if not self._invalid or self._invalid[0][0] >= first + count:
            return row_numbers(first, count), [], first + count
        numbers: list[int] = []
        errors: list[RowError] = []
        number = first
        while len(numbers) < count:
            if self._invalid and self._invalid[0][0] == number:
                error = self._error(*self._invalid.popleft())
                if error:
                    errors.append(error)
            else:
                numbers.append(number)
            number += 1
        while self._invalid and self._invalid[0][0] == number:
            error = self._error(*self._invalid.popleft())
            if error:
                errors.append(error)
            number += 1
        return pa.array(numbers, pa.int64()), errors, number


# XLSX ------------------------------------------------------------------------------------------


def cell_text(value) -> str:
    """A cell as the text a CSV export would hold: dates ISO, whole numbers without ``.0``,
    amounts with two decimals."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        if value.is_integer():
            return str(int(value))
        rounded = round(value, 2)
        if abs(value - rounded) < 1e-6:
            return f"{rounded:.2f}"
        return repr(value)
    if kind is bool:
        return "1" if value else "0"
    if kind is dt.datetime:
        return value.date().isoformat()
    if kind is dt.date:
        return value.isoformat()
    return str(value)


def column_text(values: list) -> pa.Array:
    """A column of cells as text, vectorised when the column holds one type (the usual
    case), cell by cell (cell_text) when it mixes them."""
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        array = None
    if array is not None:
        kind = array.type
        if pa.types.is_string(kind):
            return pc.fill_null(array, "")
        if pa.types.is_null(kind):
            return pa.repeat("", len(array)) if len(array) else pa.array([], pa.string())
        if pa.types.is_integer(kind) or pa.types.is_date(kind) or pa.types.is_timestamp(kind):
            return pc.fill_null(pc.cast(array, pa.string()), "")
        if pa.types.is_floating(kind):
            rounded = pc.round(array, 2)
            off = pc.max(pc.abs(pc.subtract(array, rounded))).as_py() or 0
            largest = pc.max(pc.abs(array)).as_py() or 0
            if off < 1e-6 and largest < 1e15:  # else cell_text shows the odd value as it is
                return pc.fill_null(pc.cast(rounded, pa.string()), "")
    return pa.array([cell_text(value) for value in values], pa.string())


class XlsxChunks:
    """Chunks of the first worksheet that has data."""

    def __init__(self, path: Path):
        self.path = path
        self.headers: list[str] = []
        self.lines = 0
        self._rows: Iterator = iter(())
        self._first_row = 1
        try:
            self._open_calamine()
        except ImportRefused:
            raise
        except Exception:  # noqa: BLE001 – calamine missing or failing: try openpyxl
            self._open_openpyxl()

    def _open_calamine(self) -> None:
        workbook = CalamineWorkbook.from_path(str(self.path))
        for index, meta in enumerate(workbook.sheets_metadata):
            if str(getattr(meta, "typ", "")).lower().endswith("chartsheet"):
                continue
            sheet = workbook.get_sheet_by_index(index)
            if sheet.height == 0:
                continue
            start_row = sheet.start[0] if sheet.start else 0
            rows = sheet.iter_rows()
            self.lines = sheet.height
            self._take_header(rows, start_row + 1)
            return
        raise _no_data()

    def _open_openpyxl(self) -> None:
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 – any reader error means a damaged file
            raise ImportRefused(
                _("The Excel file is damaged or not a valid .xlsx workbook (%(error)s).")
                % {"error": str(exc)[:200] or exc.__class__.__name__},
                code="xlsx_damaged",
            ) from exc
        for sheet in workbook.worksheets:
            if not sheet.max_row:
                continue
            self.lines = sheet.max_row
            self._take_header(sheet.iter_rows(values_only=True), 1)
            if self.headers:
                return
        raise _no_data()

    def _take_header(self, rows: Iterator, first_row: int) -> None:
        number = first_row
        for row in rows:
            texts = [cell_text(value).strip() for value in row]
            if any(texts):
                self.headers = texts
                self._rows = rows
                self._first_row = number + 1
                return
            number += 1
        raise _no_data()

    def chunks(self, columns: ColumnMap) -> Iterator[RawChunk]:
        wanted = list(columns.positions.items())
        number = self._first_row
        while True:
            block = []
            for row in self._rows:
                block.append(row)
                if len(block) == XLSX_CHUNK_ROWS:
                    break
            if not block:
                return
            values = {
                canonical: column_text([row[pos] if pos < len(row) else None for row in block])
                for canonical, pos in wanted
            }
            rows = row_numbers(number, len(block))
            number += len(block)
            values, rows = _drop_blank(values, rows)
            yield RawChunk(columns=values, rows=rows)


def _no_data() -> ImportRefused:
    return ImportRefused(_("The workbook has no sheet with data."), code="empty")
