"""The error types every spreadsheet import shares."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class RowError:
    """One invalid value: the row as a spreadsheet numbers it (header = row 1; None or 0:
    the whole file)."""

    row: int | None
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


class FileRefused(ValidationError):
    """The whole file is refused before a row is read; ``message`` names the problem."""

    def __init__(self, message: str, *, code: str = "refused", column: str = ""):
        super().__init__(message, code=code)
        self.column = column

    def as_row_error(self) -> RowError:
        return RowError(row=None, column=self.column, value="", reason=str(self.message))


class CellError(ValueError):
    """One cell cannot be read as what its column holds; the text says why."""
