"""The KPI dashboard as an .xlsx workbook (openpyxl): one sheet per view, targets beside values.

It writes the view models of kpi/dashboard.py (the same the pages show), reading nothing else.

Ratios are written as fractions with a percentage number format (0.823 shows as 82.3 %),
money with a thousands format, so the figures stay numbers a controller can compute with.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.styles import Font

from kpi import definitions as d
from kpi.dashboard import CollaborationDashboard, ComparisonRow, RegionDashboard
from rfi.spreadsheet import write

RATIO_FORMAT = "0.0%"
MONEY_FORMAT = "#,##0"
COUNT_FORMAT = "#,##0"
NUMBER_FORMAT = "0.00"
FORMATS = {
    d.RATIO: RATIO_FORMAT,
    d.DKK: MONEY_FORMAT,
    d.COUNT: COUNT_FORMAT,
    d.NUMBER: NUMBER_FORMAT,
}
BOLD = write.BOLD
_title = write.sheet_title


def _number(cell, value, unit: str) -> None:
    if value is None:
        return
    cell.value = float(Decimal(value)) if unit != d.COUNT else int(Decimal(value))
    cell.number_format = FORMATS.get(unit, NUMBER_FORMAT)


def _header(ws, row: int, labels: list[str], widths: list[int]) -> None:
    write.header_row(ws, [str(label) for label in labels], widths, row=row)


def _caption(ws, lines: list[str]) -> int:
    for row, line in enumerate(lines, start=1):
        write.cell(ws, row, 1, line)
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    return len(lines) + 2


def _cards_sheet(ws, cards, caption: list[str], year: int) -> None:
    row = _caption(ws, caption)
    labels = [
        _("KPI"),
        _("Value"),
        _("Comparison"),
        _("Target"),
        _("Status"),
        _("Change from %(year)s") % {"year": year - 1},
        _("Available"),
        _("Reason when not available"),
        _("Key"),
    ]
    _header(ws, row, labels, [42, 16, 11, 16, 14, 18, 10, 60, 30])
    for card in cards:
        row += 1
        write.cell(ws, row, 1, card.label)
        _number(ws.cell(row=row, column=2), card.value if card.available else None, card.unit)
        if card.target_value is not None:
            write.cell(ws, row, 3, "≥" if card.comparison == d.AT_LEAST else "≤")
            _number(ws.cell(row=row, column=4), card.target_value, card.unit)
        write.cell(ws, row, 5, card.status_text)
        if card.change is not None:
            _number(ws.cell(row=row, column=6), card.change, card.unit)
        write.cell(ws, row, 7, _("yes") if card.available else _("no"))
        write.cell(ws, row, 8, card.reason)
        write.cell(ws, row, 9, card.key)


def _months_sheet(ws, cards, series, year: int, caption: list[str]) -> None:
    row = _caption(ws, caption)
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    _header(ws, row, [_("KPI"), _("Target"), *months], [42, 14, *([12] * 12)])
    for card in cards:
        row += 1
        write.cell(ws, row, 1, card.label)
        _number(ws.cell(row=row, column=2), card.target_value, card.unit)
        by_label = {s.period_label: s for s in series.get(card.key, []) if s.period_kind == d.MONTH}
        for col, label in enumerate(months, start=3):
            snapshot = by_label.get(label)
            if snapshot is None:
                continue
            if snapshot.available:
                _number(ws.cell(row=row, column=col), snapshot.value, card.unit)
            else:
                write.cell(ws, row, col, _("n/a"))


def _years_sheet(ws, cards, series, caption: list[str]) -> None:
    row = _caption(ws, caption)
    years = sorted(
        {s.period_label for snaps in series.values() for s in snaps if s.period_kind == d.YEAR}
    )
    _header(ws, row, [_("KPI"), _("Target"), *years], [42, 14, *([14] * len(years))])
    for card in cards:
        row += 1
        write.cell(ws, row, 1, card.label)
        _number(ws.cell(row=row, column=2), card.target_value, card.unit)
        by_label = {s.period_label: s for s in series.get(card.key, []) if s.period_kind == d.YEAR}
        for col, label in enumerate(years, start=3):
            snapshot = by_label.get(label)
            if snapshot is None:
                continue
            if snapshot.available:
                _number(ws.cell(row=row, column=col), snapshot.value, card.unit)
            else:
                write.cell(ws, row, col, _("n/a"))


def _comparison_sheet(ws, regions, comparison: list[ComparisonRow], caption: list[str]) -> None:
    row = _caption(ws, caption)
    codes = [region.code for region in regions]
    _header(ws, row, [_("KPI"), _("Target"), *codes], [42, 14, *([14] * len(codes))])
    for line in comparison:
        row += 1
        write.cell(ws, row, 1, line.label)
        _number(ws.cell(row=row, column=2), line.target_value, line.unit)
        for col, cell in enumerate(line.cells, start=3):
            if cell.snapshot is None:
                continue
            if cell.snapshot.available:
                _number(ws.cell(row=row, column=col), cell.snapshot.value, line.unit)
            else:
                write.cell(ws, row, col, _("n/a"))


def _collaboration_sheet(
    ws, collaboration: CollaborationDashboard, caption: list[str], year: int
) -> None:
    _cards_sheet(ws, collaboration.cards, caption, year)
    row = ws.max_row + 2
    write.cell(ws, row, 1, _("Joint tenders per region")).font = BOLD
    for item in collaboration.participation:
        row += 1
        write.cell(ws, row, 1, item.region.code)
        write.cell(ws, row, 2, str(item.value))
    row += 2
    write.cell(ws, row, 1, _("Strategy progress")).font = BOLD
    for item in collaboration.progress.rows:
        row += 1
        write.cell(ws, row, 1, item.label)
        write.cell(ws, row, 2, str(item.target))
        write.cell(ws, row, 3, str(item.text))


def _outstanding_sheet(ws, outstanding, caption: list[str]) -> None:
    row = _caption(ws, caption)
    labels = [
        _("Reference"),
        _("Title"),
        _("Decision deadline"),
        _("Pending regions"),
        _("Overdue"),
    ]
    _header(ws, row, labels, [16, 50, 16, 24, 10])
    for case in outstanding:
        row += 1
        write.cell(ws, row, 1, case.tender.reference)
        write.cell(ws, row, 2, case.tender.title)
        if case.tender.decision_deadline:
            cell = write.cell(ws, row, 3, case.tender.decision_deadline)
            cell.number_format = "dd-mm-yyyy"
        write.cell(ws, row, 4, ", ".join(r.code for r in case.pending_regions))
        write.cell(ws, row, 5, _("yes") if case.overdue else _("no"))


def strategy_line(strategy, year: int) -> str:
    """Which strategy judges the year (its targets are the sheet's), or that none does."""
    if strategy is None:
        return _("No strategy for %(year)s: the figures are shown without targets or verdicts.") % {
            "year": year
        }
    return _("Targets of the strategy %(name)s (%(code)s, %(first)s–%(last)s).") % {
        "name": strategy.name,
        "code": strategy.code,
        "first": strategy.start_year,
        "last": strategy.end_year,
    }


def dashboard_xlsx(
    *, region: RegionDashboard, collaboration: CollaborationDashboard | None
) -> bytes:
    """The workbook: region cards, its years and months, and (chiefs, UFO, secretariat) the
    regions side by side, the collaboration and the outstanding decisions."""
    scope = region.scope
    wb = write.new_workbook()
    exported = _("Exported %(when)s") % {"when": timezone.localtime().strftime("%d-%m-%Y %H:%M")}
    place = f"{scope.region.name} · {scope.year}"
    cards = region.cards
    in_force = strategy_line(region.strategy, scope.year)

    ws = wb.active
    ws.title = _title(
        _("Region %(code)s %(year)s") % {"code": scope.region.code, "year": scope.year}
    )
    _cards_sheet(ws, cards, [_("KPIs of the region"), place, in_force, exported], scope.year)
    _years_sheet(
        wb.create_sheet(_title(_("Years"))),
        cards,
        region.series,
        [_("By year"), place, exported],
    )
    _months_sheet(
        wb.create_sheet(_title(_("Months %(year)s") % {"year": scope.year})),
        cards,
        region.series,
        scope.year,
        [_("By month"), place, exported],
    )
    if region.comparison_regions:
        _comparison_sheet(
            wb.create_sheet(_title(_("Regions side by side"))),
            region.comparison_regions,
            region.comparison,
            [_("The regions side by side"), str(scope.year), exported],
        )
    if collaboration is not None:
        _collaboration_sheet(
            wb.create_sheet(_title(_("Collaboration"))),
            collaboration,
            [_("The collaboration"), str(scope.year), in_force, exported],
            scope.year,
        )
        _outstanding_sheet(
            wb.create_sheet(_title(_("Outstanding decisions"))),
            collaboration.outstanding,
            [_("Outstanding follow-or-explain decisions"), exported],
        )
    return write.workbook_bytes(wb)
