"""What an import would replace: the preview shown before any stored line is deleted.

One service for the batch page, the API's 409 answer and ``import_ledger``: per month of the
period the import switches in, the lines and amount stored now and what the file brings,
with the months that would become empty. An import that would delete stored lines, or whose
declared period reaches beyond the months its lines cover, waits for the uploader's
confirmation (ImportBatch.Status.AWAITING) unless the upload carried it already.

The stored figures come from one aggregate query (selectors.stored_lines_by_month), run
before or after the COPY, never during validation; the file's figures are summed per month
while the chunks are validated (``FileMonths``), so memory stays bounded by the months.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext as _

from rfi import formatting
from spend import selectors

ZERO = Decimal("0.00")
Month = tuple[int, int]


class FileMonths:
    """The file's lines and amount per (year, month), summed chunk by chunk."""

    def __init__(self):
        self.months: dict[Month, list] = {}

    def add(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        dates = table.column("posting_date")
        keys = pc.add(pc.multiply(pc.year(dates), 100), pc.month(dates))
        grouped = (
            pa.table({"key": keys, "amount": table.column("amount")})
            .group_by("key")
            .aggregate([("amount", "sum"), ("amount", "count")])
        )
        for row in grouped.to_pylist():
            month = divmod(row["key"], 100)
            figures = self.months.setdefault(month, [0, ZERO])
            figures[0] += row["amount_count"]
            figures[1] += row["amount_sum"] or ZERO


def _months(start: dt.date, end: dt.date) -> list[Month]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _iso(month: Month) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


def _first_day(month: str) -> dt.date:
    return dt.date.fromisoformat(f"{month}-01")


@dataclass
class ReplacementPreview:
    """Per month of the period: what is stored now and what the file brings."""

    period: tuple[dt.date, dt.date]
    declared: bool
    months: list[dict] = field(default_factory=list)
    # False: the file has not been read yet (the API's early 409); its figures are None.
    file_read: bool = True

    @property
    def stored_lines(self) -> int:
        return sum(row["stored_lines"] for row in self.months)

    @property
    def stored_amount(self) -> Decimal:
        return sum((Decimal(row["stored_amount"]) for row in self.months), ZERO)

    @property
    def file_lines(self) -> int | None:
        if not self.file_read:
            return None
        return sum(row["file_lines"] for row in self.months)

    @property
    def file_amount(self) -> Decimal | None:
        if not self.file_read:
            return None
        return sum((Decimal(row["file_amount"]) for row in self.months), ZERO)

    @property
    def emptied_months(self) -> list[str]:
        """Months with stored lines that the file brings none for: they become empty."""
        if not self.file_read:
            return []
        return [
            row["month"] for row in self.months if row["stored_lines"] and not row["file_lines"]
        ]

    @property
    def months_without_lines(self) -> list[str]:
        """Months of a declared period the file holds no line for."""
        if not self.declared or not self.file_read:
            return []
        return [row["month"] for row in self.months if not row["file_lines"]]

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.stored_lines or self.months_without_lines)

    def as_json(self) -> dict:
        """The preview as stored on the batch and answered by the API (amounts as strings)."""
        return {
            "period_start": self.period[0].isoformat(),
            "period_end": self.period[1].isoformat(),
            "declared": self.declared,
            "months": self.months,
            "stored_lines": self.stored_lines,
            "stored_amount": str(self.stored_amount),
            "file_read": self.file_read,
            "file_lines": self.file_lines,
            "file_amount": None if self.file_amount is None else str(self.file_amount),
            "emptied_months": self.emptied_months,
            "months_without_lines": self.months_without_lines,
        }

    @classmethod
    def from_json(cls, data: dict) -> ReplacementPreview | None:
        if not data:
            return None
        period = (
            dt.date.fromisoformat(data["period_start"]),
            dt.date.fromisoformat(data["period_end"]),
        )
        return cls(
            period=period,
            declared=data.get("declared", False),
            months=data["months"],
            file_read=data.get("file_read", True),
        )

    # Words -------------------------------------------------------------------------------------
    def months_label(self, months: list[str] | None = None) -> str:
        """ "november 2026", or "november 2026 – januar 2027" for a longer span."""
        months = months if months is not None else [row["month"] for row in self.months]
        if not months:
            return ""
        first = formatting.month(_first_day(months[0]), long=True)
        if len(months) == 1:
            return first
        return f"{first} – {formatting.month(_first_day(months[-1]), long=True)}"

    def confirm_label(self) -> str:
        """The confirm button: "Erstat 1.544 linjer, 10,5 mio. kr., for november 2026"."""
        if self.stored_lines:
            stored = [row["month"] for row in self.months if row["stored_lines"]]
            return _("Replace %(lines)s, %(amount)s, for %(months)s") % {
                "lines": formatting.count(self.stored_lines, "lines"),
                "amount": formatting.compact_money(self.stored_amount),
                "months": self.months_label(stored),
            }
        return _("Import for %(months)s") % {"months": self.months_label()}

    def summary(self) -> str:
        """One paragraph for the batch's message, the API's 409 and the command."""
        parts = []
        if self.stored_lines and not self.file_read:
            parts.append(
                _(
                    "Importing a file for this period deletes %(lines)s (%(amount)s) stored for %(months)s."
                )
                % {
                    "lines": formatting.count(self.stored_lines, "lines"),
                    "amount": formatting.compact_money(self.stored_amount),
                    "months": self.months_label(),
                }
            )
        elif self.stored_lines:
            parts.append(
                _(
                    "Importing this file deletes %(lines)s (%(amount)s) stored for "
                    "%(months)s and puts %(file_lines)s (%(file_amount)s) in their place."
                )
                % {
                    "lines": formatting.count(self.stored_lines, "lines"),
                    "amount": formatting.compact_money(self.stored_amount),
                    "months": self.months_label(),
                    "file_lines": formatting.count(self.file_lines, "lines"),
                    "file_amount": formatting.compact_money(self.file_amount),
                }
            )
        if self.emptied_months:
            parts.append(
                _("These months become empty: %(months)s.")
                % {
                    "months": ", ".join(
                        formatting.month(_first_day(m)) for m in self.emptied_months
                    )
                }
            )
        beyond = [m for m in self.months_without_lines if m not in self.emptied_months]
        if beyond:
            parts.append(
                _("The declared period reaches beyond the file's lines: no lines for %(months)s.")
                % {"months": ", ".join(formatting.month(_first_day(m)) for m in beyond)}
            )
        parts.append(_("Nothing has been changed yet."))
        return " ".join(parts)


def replacement_preview(
    *,
    region_id: int,
    period: tuple[dt.date, dt.date],
    declared: bool,
    file_months: FileMonths | None,
) -> ReplacementPreview:
    """What switching in a file with ``file_months`` for ``period`` would replace
    (``file_months`` None: the file is not read yet, only the stored side is known)."""
    start, end = period
    stored = selectors.stored_lines_by_month(region_id=region_id, start=start, end=end)
    rows = []
    for month in _months(start, end):
        stored_lines, stored_amount = stored.get(month, (0, ZERO))
        if file_months is None:
            file_lines, file_amount = None, None
        else:
            file_lines, file_amount = file_months.months.get(month, (0, ZERO))
        rows.append(
            {
                "month": _iso(month),
                "stored_lines": stored_lines,
                "stored_amount": str(stored_amount),
                "file_lines": file_lines,
                "file_amount": None if file_amount is None else str(file_amount),
            }
        )
    return ReplacementPreview(
        period=period, declared=declared, months=rows, file_read=file_months is not None
    )
