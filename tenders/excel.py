"""Excel in and out of the joint tender plan: the .xlsx export, the status report, the import.

The export's layout is also the import's: export → import of the same file
changes nothing, and into an empty database it reproduces the plan. The
headers and the words in the cells (status, area, participation …) are a
file format with a Danish and an English spelling, written out here rather
than taken from the translations, so that a reworded translation never makes
an older file unreadable; the import accepts either language.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from rfi import permissions
from rfi.models import Category, PartnerBody, Region
from tenders import selectors, services
from tenders.models import OptOutReason, Participation, PlanSettings, TenderCase

MONEY_FORMAT = "#,##0"
DATE_FORMAT = "dd-mm-yyyy"
AVERAGE_FORMAT = "0.0"
# A text cell starting with one of these could run as a formula in a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
MAX_IMPORT_ROWS = 5000


# The file format ------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    da: str
    en: str
    kind: str  # text, date, money, bool, area, kind, status, cpv, region, partner, …
    width: int = 14


TENDER_COLUMNS: tuple[Column, ...] = (
    Column("reference", "Reference", "Reference", "text", 15),
    Column("title", "Titel", "Title", "text", 40),
    Column("description", "Beskrivelse", "Description", "text", 50),
    Column("category", "CPV-kode", "CPV code", "cpv", 12),
    Column("area", "Område", "Area", "area", 24),
    Column("kind", "Aftaletype", "Kind", "kind", 18),
    Column("has_options", "Optioner", "Options", "bool", 10),
    Column("lead_region", "Tovholder (region)", "Lead region", "region", 12),
    Column("lead_partner", "Tovholder (partner)", "Lead partner body", "partner", 12),
    Column("status", "Status", "Status", "status", 18),
    Column("expected_tender_start", "Forventet udbudsstart", "Expected tender start", "date"),
    Column("publication_date", "Offentliggørelse", "Publication", "date"),
    Column("award_date", "Tildeling", "Award", "date"),
    Column("contract_start", "Kontraktstart", "Contract start", "date"),
    Column("contract_end", "Kontraktudløb", "Contract end", "date"),
    Column("extension_until", "Forlængelse til", "Extension until", "date"),
    Column("decision_deadline", "Beslutningsfrist", "Decision deadline", "date"),
    Column(
        "estimated_annual_value",
        "Anslået årlig kontraktsum",
        "Estimated annual value",
        "money",
        18,
    ),
    Column("is_publishable", "Må offentliggøres", "Publishable", "bool", 10),
    Column("internal_notes", "Interne noter", "Internal notes", "text", 40),
)

# One column per active region for each of these; the header is "<prefix> <region code>".
PARTICIPATION_COLUMNS: tuple[Column, ...] = (
    Column("status", "Deltagelse", "Participation", "participation", 14),
    Column("opt_out_reason", "Fravalgsårsag", "Opt-out reason", "reason", 16),
    Column("justification", "Begrundelse", "Justification", "text", 40),
    Column(
        "existing_contract_end",
        "Eksisterende kontrakt udløber",
        "Existing contract ends",
        "date",
    ),
    Column("option_expected_join", "Forventet tiltrædelse", "Expected to join", "date"),
    Column("option_exercised_on", "Option udnyttet", "Option exercised", "date"),
    Column("estimated_annual_value", "Årlig værdi", "Annual value", "money", 16),
)

WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "area": {
        TenderCase.Area.GOODS_SERVICES: ("Varer og tjenesteydelser", "Goods and services"),
        TenderCase.Area.MEDICO_ACQUISITIONS: ("Medico og anskaffelser", "Medico and acquisitions"),
    },
    "kind": {
        TenderCase.Kind.FRAMEWORK: ("Rammeaftale", "Framework agreement"),
        TenderCase.Kind.ONE_OFF: ("Engangskøb", "One-off purchase"),
    },
    "status": {
        TenderCase.Status.PLANNED: ("Kommende", "Planned"),
        TenderCase.Status.IN_TENDER: ("Aktuel", "In tender"),
        TenderCase.Status.IN_CONTRACT: ("I kontraktperiode", "In contract period"),
        TenderCase.Status.ENDED: ("Afsluttet", "Ended"),
        TenderCase.Status.CANCELLED: ("Annulleret", "Cancelled"),
    },
    "participation": {
        Participation.Status.FULL: ("Fuld", "Full"),
        Participation.Status.OPTION: ("Option", "Option"),
        Participation.Status.OPTED_OUT: ("Fravalgt", "Opted out"),
        Participation.Status.PENDING: ("Afventer", "Pending"),
    },
    "bool": {True: ("ja", "yes"), False: ("nej", "no")},
}
# Other spellings people type; matched without regard to case.
SYNONYMS: dict[str, dict[str, Iterable[str]]] = {
    "status": {
        TenderCase.Status.PLANNED: ("planlagt", "upcoming"),
        TenderCase.Status.IN_TENDER: ("i udbud", "current"),
        TenderCase.Status.IN_CONTRACT: ("i kontrakt", "in contract"),
        TenderCase.Status.ENDED: ("udløbet",),
        TenderCase.Status.CANCELLED: ("aflyst", "canceled"),
    },
    "participation": {
        Participation.Status.FULL: ("deltager fuldt ud", "fuldt", "full participation"),
        Participation.Status.OPTION: ("på option", "på en option", "on an option"),
        Participation.Status.OPTED_OUT: ("fravalg", "opted-out", "opt-out", "opt out"),
        Participation.Status.PENDING: ("pending decision",),
    },
    "bool": {True: ("j", "y", "true", "1", "x", "sand"), False: ("n", "false", "0", "falsk")},
}


def _language() -> str:
    return "en" if (get_language() or "da").startswith("en") else "da"


def _header(column: Column, language: str, region_code: str | None = None) -> str:
    text = column.en if language == "en" else column.da
    return f"{text} {region_code}" if region_code else text


def _word(kind: str, value, language: str) -> str:
    da, en = WORDS[kind][value]
    return en if language == "en" else da


def _normal(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _vocabulary(kind: str) -> dict[str, object]:
    """Every accepted spelling (both languages, the stored code, synonyms) → value."""
    vocabulary: dict[str, object] = {}
    for value, spellings in WORDS[kind].items():
        for spelling in (*spellings, *SYNONYMS.get(kind, {}).get(value, ())):
            vocabulary[_normal(spelling)] = value
        if isinstance(value, str):
            vocabulary[_normal(value)] = value
            vocabulary[_normal(value.replace("_", " "))] = value
    return vocabulary


# Writing ----------------------------------------------------------------------------------


def _text_cell(cell, value: str) -> None:
    """Write text that never runs as a formula, whatever it starts with."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if value.startswith(FORMULA_TRIGGERS):
        # openpyxl would store "=…" as a formula; a string cell with a quote prefix
        # stays text in the file and when the user edits the cell in Excel.
        cell.data_type = "s"
        cell.quotePrefix = True


def _put(ws, row: int, col: int, value, kind: str, language: str) -> None:
    if value is None or value == "":
        return
    cell = ws.cell(row=row, column=col)
    if kind == "date":
        cell.value = value
        cell.number_format = DATE_FORMAT
    elif kind == "money":
        cell.value = value
        cell.number_format = MONEY_FORMAT
    elif kind in WORDS:
        _text_cell(cell, _word(kind, value, language))
    else:
        _text_cell(cell, str(value))


def _header_row(ws, headers: list[str], widths: list[int]) -> None:
    bold = Font(bold=True)
    for col, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=1, column=col)
        _text_cell(cell, text)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"


def _plan_columns(regions: list[Region]) -> list[tuple[Column, Region | None]]:
    columns: list[tuple[Column, Region | None]] = [(c, None) for c in TENDER_COLUMNS]
    for column in PARTICIPATION_COLUMNS:
        columns.extend((column, region) for region in regions)
    return columns


def _tender_value(tender: TenderCase, column: Column):
    if column.key == "category":
        return tender.category.full_code
    if column.key == "lead_region":
        return tender.lead_region.code if tender.lead_region else None
    if column.key == "lead_partner":
        return tender.lead_partner.code if tender.lead_partner else None
    return getattr(tender, column.key)


def _participation_value(participation: Participation | None, column: Column):
    if participation is None:
        return None
    if column.key == "opt_out_reason":
        return participation.opt_out_reason.code if participation.opt_out_reason else None
    return getattr(participation, column.key)


def _write_plan(ws, tenders, language: str) -> int:
    """The plan, one row per case; returns the number of rows written."""
    regions = list(Region.objects.filter(active=True))
    columns = _plan_columns(regions)
    _header_row(
        ws,
        [_header(c, language, r.code if r else None) for c, r in columns],
        [c.width for c, _r in columns],
    )
    grid = selectors.participation_grid(tenders)
    tenders = list(tenders)
    for row, tender in enumerate(tenders, start=2):
        participations = grid.get(tender.pk, {})
        for col, (column, region) in enumerate(columns, start=1):
            if region is None:
                value = _tender_value(tender, column)
            else:
                value = _participation_value(participations.get(region.code), column)
            _put(ws, row, col, value, column.kind, language)
    last = max(len(tenders) + 1, 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last}"
    return len(tenders)


def _workbook_bytes(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def plan_sheet_title(language: str) -> str:
    return "Tender plan" if language == "en" else "Udbudsplan"


def plan_export(queryset) -> bytes:
    """The given tender cases as an .xlsx workbook, headers in the active language."""
    language = _language()
    wb = Workbook()
    ws = wb.active
    ws.title = plan_sheet_title(language)
    _write_plan(ws, queryset.select_related("category", "lead_region", "lead_partner"), language)
    return _workbook_bytes(wb)


def status_report_export(*, as_of=None) -> bytes:
    """The status report (selectors.status_report) on one sheet, the whole plan on a second."""
    language = _language()
    report = selectors.status_report(as_of=as_of)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Status report")[:31]
    _header_row(
        ws,
        [_("Phase"), _("Area"), _("Joint tenders"), _("Annual contract sum")],
        [28, 28, 16, 22],
    )
    phases = {
        "upcoming_current": _("Upcoming and current"),
        "in_contract": _("In contract period"),
    }
    row = 2
    for phase, phase_label in phases.items():
        for area in TenderCase.Area.values:
            cell = report["cells"][f"{phase}.{area}"]
            _text_cell(ws.cell(row=row, column=1), str(phase_label))
            _text_cell(ws.cell(row=row, column=2), _word("area", area, language))
            ws.cell(row=row, column=3, value=cell["tenders"])
            money = ws.cell(row=row, column=4, value=cell["annual_value"])
            money.number_format = MONEY_FORMAT
            row += 1
    bold = Font(bold=True)
    _text_cell(ws.cell(row=row, column=1), _("Total"))
    ws.cell(row=row, column=3, value=report["tenders"]).font = bold
    total = ws.cell(row=row, column=4, value=report["annual_value"])
    total.number_format = MONEY_FORMAT
    total.font = bold
    row += 2
    averages = (
        (_("Average participating regions per tender (lead included)"), "regions_per_tender"),
        (_("Average joint tenders per region"), "tenders_per_region"),
    )
    for label, key in averages:
        _text_cell(ws.cell(row=row, column=1), label)
        if report[key] is not None:
            average = ws.cell(row=row, column=3, value=round(report[key], 2))
            average.number_format = AVERAGE_FORMAT
        row += 1
    row += 1
    _text_cell(ws.cell(row=row, column=1), _("Region"))
    _text_cell(ws.cell(row=row, column=3), _("Joint tenders taken part in"))
    ws.cell(row=row, column=1).font = bold
    ws.cell(row=row, column=3).font = bold
    for region in Region.objects.filter(active=True):
        row += 1
        _text_cell(ws.cell(row=row, column=1), f"{region.code} {region.name}")
        ws.cell(row=row, column=3, value=report["per_region"].get(region.code, 0))

    plan = wb.create_sheet(plan_sheet_title(language))
    _write_plan(plan, selectors.tender_list(), language)
    return _workbook_bytes(wb)


# Reading ---------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class UnreadableFile(ValueError):
    """The file is not an .xlsx or .csv the import can read."""


def _decode(data: bytes) -> str:
    # Danish exports are UTF-8 with or without a BOM, or Windows-1252.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _read_csv(data: bytes) -> tuple[list[list], str]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    return rows, delimiter


def _read_xlsx(data: bytes) -> list[list]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for every broken file
        raise UnreadableFile(str(exc)) from exc
    # The plan's sheet is the one with a title column.
    title = next(c for c in TENDER_COLUMNS if c.key == "title")
    headers = {_normal(title.da), _normal(title.en)}
    first = None
    for index in range(len(workbook.sheet_names)):
        rows = workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
        if first is None:
            first = rows
        # The status report export carries the plan on its second sheet.
        if rows and any(_normal(v) in headers for v in rows[0] if isinstance(v, str)):
            return rows
    return first or []


def read_rows(data: bytes, filename: str) -> tuple[list[list], bool | None]:
    """The sheet's rows, and whether amounts written as text use a decimal comma.

    None: the file does not tell (an .xlsx); the language of its headers decides.
    """
    name = filename.lower()
    if name.endswith((".csv", ".txt")):
        rows, delimiter = _read_csv(data)
        return rows, {";": True, ",": False}.get(delimiter)
    if name.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return _read_xlsx(data), None
    raise UnreadableFile(_("Upload an .xlsx or .csv file in the layout of the export."))


@dataclass
class Cell:
    row: int
    header: str
    raw: object

    @property
    def shown(self) -> str:
        if isinstance(self.raw, dt.datetime | dt.date):
            return self.raw.strftime("%d-%m-%Y")
        if isinstance(self.raw, float) and self.raw.is_integer():
            return str(int(self.raw))
        return "" if self.raw is None else str(self.raw)

    @property
    def empty(self) -> bool:
        return self.raw is None or (isinstance(self.raw, str) and not self.raw.strip())


class CellError(ValueError):
    pass


DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})[-./](\d{1,2})[-./](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
)


def parse_date(raw) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 1 <= raw < 2958466:
        # An Excel serial day number in a cell without a date format.
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(raw))
    text = str(raw).strip().split(" ")[0].split("T")[0]
    for pattern, order in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            try:
                return dt.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                break
    raise CellError(_("Not a date: write it as dd-mm-yyyy."))


AMOUNT_SHAPE = re.compile(r"^-?(\d+|\d{1,3}([.,]\d{3})+)([.,]\d+)?$")


def parse_money(raw, *, decimal_comma: bool) -> Decimal:
    if isinstance(raw, bool):
        raise CellError(_("Not an amount."))
    if isinstance(raw, int | float | Decimal):
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    else:
        text = re.sub(r"(?i)\s|kr\.?|dkk", "", str(raw).replace("\xa0", ""))
        if not AMOUNT_SHAPE.match(text):
            # "12,34,5" is no amount: thousands groups have three digits.
            raise CellError(_("Not an amount."))
        text = _normalise_separators(text, decimal_comma=decimal_comma)
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise CellError(_("Not an amount.")) from exc
    if not value.is_finite():
        raise CellError(_("Not an amount."))
    if value < 0:
        raise CellError(_("The amount cannot be negative."))
    value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if len(value.as_tuple().digits) > 15:
        raise CellError(_("The amount is too large."))
    return value


def _normalise_separators(text: str, *, decimal_comma: bool) -> str:
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text or "." in text:
        mark = "," if "," in text else "."
        if text.count(mark) > 1:
            decimal = "." if mark == "," else ","
        elif (mark == ",") == decimal_comma:
            decimal = mark
        else:
            # A lone separator the other convention uses: "1.500" in a Danish file is 1500.
            decimal = mark if not re.search(rf"\{mark}\d{{3}}$", text) else ""
    else:
        decimal = "."
    thousands = {",", "."} - {decimal}
    for mark in thousands:
        text = text.replace(mark, "")
    return text.replace(decimal, ".") if decimal else text


def _text(raw) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime | dt.date):
        return raw.strftime("%d-%m-%Y")
    return "" if raw is None else str(raw).replace("\r\n", "\n").strip()


def _same_text(a: str | None, b: str | None) -> bool:
    return _text(a) == _text(b)


class Lookups:
    """Reference rows the import resolves codes against, loaded once per import."""

    def __init__(self) -> None:
        self.regions = {r.code.upper(): r for r in Region.objects.all()}
        self.active_regions = {code: r for code, r in self.regions.items() if r.active}
        self.partners = {p.code.upper(): p for p in PartnerBody.objects.all()}
        for partner in list(self.partners.values()):
            for name in (partner.name_da, partner.name_en):
                if name:
                    self.partners.setdefault(_normal(name).upper(), partner)
        self.reasons: dict[str, OptOutReason] = {}
        for reason in OptOutReason.objects.all():
            for spelling in (reason.code, reason.label_da, reason.label_en):
                if spelling:
                    self.reasons.setdefault(_normal(spelling), reason)
        self.vocabularies = {kind: _vocabulary(kind) for kind in WORDS}
        self.min_justification = PlanSettings.current().min_justification_length
        self.categories: dict[str, Category | None] = {}

    def category(self, raw) -> Category:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            text = str(int(raw)).zfill(8)
        else:
            text = str(raw).strip().split(" ")[0]
        match = re.fullmatch(r"(\d{7,8})(?:-(\d))?", text)
        if not match:
            raise CellError(_("Not a CPV code: write 8 digits, e.g. 33141200-2."))
        code, check = match.group(1).zfill(8), match.group(2)
        if code not in self.categories:
            self.categories[code] = Category.objects.filter(code=code).first()
        category = self.categories[code]
        if category is None:
            raise CellError(_("Unknown CPV code."))
        if check is not None and check != category.check_digit:
            raise CellError(
                _("The check digit does not match CPV code %(code)s.")
                % {"code": category.full_code}
            )
        return category

    def region(self, raw) -> Region:
        region = self.regions.get(_text(raw).upper())
        if region is None:
            raise CellError(_("Unknown region code."))
        return region

    def partner(self, raw) -> PartnerBody:
        text = _text(raw)
        partner = self.partners.get(text.upper()) or self.partners.get(_normal(text).upper())
        if partner is None:
            raise CellError(_("Unknown partner body."))
        return partner

    def reason(self, raw) -> OptOutReason:
        reason = self.reasons.get(_normal(_text(raw)))
        if reason is None:
            raise CellError(_("Unknown opt-out reason."))
        return reason

    def word(self, kind: str, raw):
        if isinstance(raw, bool) and kind == "bool":
            return raw
        value = self.vocabularies[kind].get(_normal(_text(raw)))
        if value is None:
            choices = ", ".join(spellings[0] for spellings in WORDS[kind].values())
            raise CellError(_("Unknown value; use one of: %(choices)s.") % {"choices": choices})
        return value


@dataclass
class Layout:
    """Which file column holds what: tender fields, and per region its participation fields."""

    tender: dict[str, int] = field(default_factory=dict)
    regions: dict[str, dict[str, int]] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    english: bool = False

    def header(self, key: str, region_code: str | None = None) -> str:
        index = self.regions.get(region_code, {}).get(key) if region_code else self.tender.get(key)
        if index is not None:
            return self.headers[index]
        columns = PARTICIPATION_COLUMNS if region_code else TENDER_COLUMNS
        column = next(c for c in columns if c.key == key)
        return _header(column, "en" if self.english else "da", region_code)


REQUIRED = ("title", "category", "area", "kind")


def read_layout(header_row: list, lookups: Lookups, errors: list[RowError]) -> Layout:
    layout = Layout(headers=[_text(h) for h in header_row])
    # header → (key, English?); None where both languages spell it the same ("Status").
    tender_headers: dict[str, tuple[str, bool | None]] = {}
    prefixes: dict[str, tuple[str, bool | None]] = {}
    for columns, target in ((TENDER_COLUMNS, tender_headers), (PARTICIPATION_COLUMNS, prefixes)):
        for column in columns:
            same = _normal(column.da) == _normal(column.en)
            target[_normal(column.da)] = (column.key, None if same else False)
            target[_normal(column.en)] = (column.key, None if same else True)
    english_votes = 0
    for index, header in enumerate(layout.headers):
        normal = _normal(header)
        if not normal:
            continue
        if normal in tender_headers:
            key, english = tender_headers[normal]
            english_votes += {True: 1, False: -1, None: 0}[english]
            target = layout.tender
        else:
            prefix, _sep, code = normal.rpartition(" ")
            if prefix not in prefixes:
                errors.append(RowError(1, header, header, _("Unknown column.")))
                continue
            key, english = prefixes[prefix]
            english_votes += {True: 1, False: -1, None: 0}[english]
            region = lookups.active_regions.get(code.upper())
            if region is None:
                errors.append(RowError(1, header, code.upper(), _("Unknown region code.")))
                continue
            target = layout.regions.setdefault(region.code, {})
        if key in target:
            errors.append(RowError(1, header, header, _("The column appears twice.")))
            continue
        target[key] = index
    layout.english = english_votes > 0
    for key in REQUIRED:
        if key not in layout.tender:
            errors.append(
                RowError(1, layout.header(key), "", _("The file has no such column; add it."))
            )
    if "lead_region" not in layout.tender and "lead_partner" not in layout.tender:
        errors.append(
            RowError(1, layout.header("lead_region"), "", _("The file has no lead column."))
        )
    return layout


@dataclass
class RowPlan:
    """One valid row, parsed: what to create or change."""

    row: int
    tender: TenderCase | None
    reference: str
    fields: dict
    participations: dict[str, dict]
    # (region code or "", key) → the cell as the file shows it, for error reports.
    shown: dict[tuple[str, str], str] = field(default_factory=dict)

    def cell_text(self, key: str, region_code: str | None, value) -> str:
        return self.shown.get((region_code or "", key), _shown(value))


def _parse_cell(kind: str, raw, lookups: Lookups, decimal_comma: bool):
    if kind == "text":
        return _text(raw)
    if kind == "date":
        return parse_date(raw)
    if kind == "money":
        return parse_money(raw, decimal_comma=decimal_comma)
    if kind == "cpv":
        return lookups.category(raw)
    if kind == "region":
        return lookups.region(raw)
    if kind == "partner":
        return lookups.partner(raw)
    if kind == "reason":
        return lookups.reason(raw)
    return lookups.word(kind, raw)


TEXT_LIMITS = {"reference": 20, "title": 300}
REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def _parse_row(
    number: int, values: list, layout: Layout, lookups: Lookups, decimal_comma: bool, errors
) -> RowPlan:
    def cell(index: int) -> Cell:
        raw = values[index] if index < len(values) else None
        return Cell(number, layout.headers[index], raw)

    fields: dict = {}
    shown: dict[tuple[str, str], str] = {}
    for column in TENDER_COLUMNS:
        index = layout.tender.get(column.key)
        if index is None:
            continue
        c = cell(index)
        shown[("", column.key)] = c.shown
        if c.empty:
            if column.key in REQUIRED:
                errors.append(RowError(number, c.header, "", _("This cell cannot be empty.")))
            elif column.kind == "text":
                fields[column.key] = ""
            elif column.kind not in ("bool", "status"):
                fields[column.key] = None
            # A blank yes/no or status leaves the case as it is (a new case: no, planned).
            continue
        try:
            value = _parse_cell(column.kind, c.raw, lookups, decimal_comma)
        except CellError as exc:
            errors.append(RowError(number, c.header, c.shown, str(exc)))
            continue
        limit = TEXT_LIMITS.get(column.key)
        if limit and len(value) > limit:
            errors.append(
                RowError(number, c.header, c.shown, _("At most %(n)d characters.") % {"n": limit})
            )
            continue
        fields[column.key] = value
    participations: dict[str, dict] = {}
    for code, columns in layout.regions.items():
        wanted: dict = {}
        for column in PARTICIPATION_COLUMNS:
            index = columns.get(column.key)
            if index is None:
                continue
            c = cell(index)
            shown[(code, column.key)] = c.shown
            if c.empty:
                wanted[column.key] = "" if column.kind == "text" else None
                continue
            try:
                wanted[column.key] = _parse_cell(column.kind, c.raw, lookups, decimal_comma)
            except CellError as exc:
                errors.append(RowError(number, c.header, c.shown, str(exc)))
        participations[code] = wanted
    reference = fields.pop("reference", "") or ""
    if reference and not REFERENCE_PATTERN.match(reference):
        errors.append(
            RowError(
                number,
                layout.header("reference"),
                reference,
                _("A reference holds letters, digits and dashes, e.g. FUP-2026-014."),
            )
        )
    return RowPlan(number, None, reference, fields, participations, shown)


def _field_errors(
    plan: RowPlan, layout: Layout, exc: ValidationError, region_code: str | None = None
) -> list[RowError]:
    """A service's ValidationError as row errors, each on the column of its field."""
    found = []
    messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    for name, texts in messages.items():
        header, shown = "", ""
        keys = {c.key for c in (PARTICIPATION_COLUMNS if region_code else TENDER_COLUMNS)}
        if name in keys:
            header = layout.header(name, region_code)
            source = plan.participations.get(region_code, {}) if region_code else plan.fields
            value = source.get(name)
            if value is None and not region_code and plan.tender is not None:
                value = getattr(plan.tender, name, None)
            shown = plan.cell_text(name, region_code, value)
        for text in texts:
            found.append(RowError(plan.row, header, shown, text))
    return found


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d-%m-%Y")
    if isinstance(value, Region | PartnerBody | OptOutReason):
        return value.code
    if isinstance(value, Category):
        return value.full_code
    if isinstance(value, bool):
        return _word("bool", value, "da")
    return str(value)


def _changed_fields(tender: TenderCase, fields: dict) -> dict:
    changed = {}
    for name, value in fields.items():
        current = getattr(tender, name)
        if isinstance(current, str) or isinstance(value, str):
            if not _same_text(current, value):
                changed[name] = value
        elif current != value:
            changed[name] = value
    return changed


def _new_case_fields(fields: dict) -> dict:
    values = {k: v for k, v in fields.items() if v is not None}
    for name in ("has_options", "is_publishable"):
        values.setdefault(name, False)
    return values


def _validate_tender(plan: RowPlan, layout: Layout, errors: list[RowError]) -> TenderCase:
    """The case as it would be after the row, checked by the services' rules (unsaved)."""
    if plan.tender is not None:
        candidate = copy.copy(plan.tender)
        for name, value in _changed_fields(plan.tender, plan.fields).items():
            setattr(candidate, name, value)
    else:
        candidate = TenderCase(**_new_case_fields(plan.fields))
        for key in REQUIRED:
            if plan.fields.get(key) in (None, ""):
                errors.append(
                    RowError(plan.row, layout.header(key), "", _("A new case needs this."))
                )
        if not candidate.status:
            candidate.status = TenderCase.Status.PLANNED
    try:
        services.tender_validate(candidate)
    except ValidationError as exc:
        errors.extend(_field_errors(plan, layout, exc))
    return candidate


def _validate_participation(
    plan: RowPlan,
    code: str,
    wanted: dict,
    current: Participation | None,
    tender: TenderCase,
    layout: Layout,
    lookups: Lookups,
    errors: list[RowError],
) -> None:
    """Follow or explain, checked before anything is saved (the service checks again)."""
    statuses = Participation.Status
    status = wanted.get("status") or (current.status if current else statuses.PENDING)

    def error(key: str, reason: str) -> None:
        errors.append(
            RowError(
                plan.row,
                layout.header(key, code),
                plan.cell_text(key, code, wanted.get(key)),
                reason,
            )
        )

    if current is not None and status == statuses.PENDING and current.status != status:
        error("status", _("A decision cannot be set back to pending."))
    if status == statuses.OPTED_OUT:
        reason = wanted.get("opt_out_reason", current.opt_out_reason if current else None)
        justification = _text(wanted.get("justification", current.justification if current else ""))
        if reason is None:
            error("opt_out_reason", _("Follow or explain: give the reason for opting out."))
        if len(justification) < lookups.min_justification:
            error(
                "justification",
                _(
                    "Follow or explain: an opt-out needs a written justification of at least "
                    "%(min)d characters (%(n)d given)."
                )
                % {"min": lookups.min_justification, "n": len(justification)},
            )
        contract_end = wanted.get(
            "existing_contract_end", current.existing_contract_end if current else None
        )
        if reason is not None and reason.asks_contract_end and contract_end is None:
            error("existing_contract_end", _("Give the end date of the existing contract."))
    if status == statuses.OPTION:
        if not tender.has_options:
            error("status", _("This tender carries no options for later joining."))
        join = wanted.get("option_expected_join", current.option_expected_join if current else None)
        if join is None:
            error("option_expected_join", _("Give the date the region expects to be able to join."))
    exercised = wanted.get("option_exercised_on")
    if exercised is not None and status != statuses.OPTION:
        error("option_exercised_on", _("Only a region on an option can exercise it."))
    already = current.option_exercised_on if current else None
    if already and "option_exercised_on" in wanted and exercised != already:
        error(
            "option_exercised_on",
            _("The option was exercised on %(date)s; that cannot be changed here.")
            % {"date": already.strftime("%d-%m-%Y")},
        )


def _decision_changes(current: Participation, wanted: dict) -> bool:
    status = wanted.get("status") or current.status
    if status != current.status:
        return True
    if status == Participation.Status.OPTED_OUT:
        if "opt_out_reason" in wanted and wanted["opt_out_reason"] != current.opt_out_reason:
            return True
        if "justification" in wanted and not _same_text(
            wanted["justification"], current.justification
        ):
            return True
        if (
            "existing_contract_end" in wanted
            and wanted["existing_contract_end"] != current.existing_contract_end
        ):
            return True
    if status == Participation.Status.OPTION and (
        "option_expected_join" in wanted
        and wanted["option_expected_join"] != current.option_expected_join
    ):
        return True
    value = wanted.get("estimated_annual_value")
    return value is not None and value != current.estimated_annual_value


def _apply_participation(current: Participation, wanted: dict, actor) -> bool:
    """Record the file's decision for one region when it differs; True when it changed."""
    changed = False
    status = wanted.get("status") or current.status
    if _decision_changes(current, wanted):
        if status == Participation.Status.PENDING:
            # Only the region's estimate can change while it has not decided.
            current.estimated_annual_value = wanted["estimated_annual_value"]
            services._with_actor(current, actor)
            current.save()
        else:

            def keep(key: str):
                return wanted.get(key, getattr(current, key))

            services.participation_decide(
                participation=current,
                actor=actor,
                status=status,
                reason=keep("opt_out_reason"),
                justification=_text(keep("justification")),
                existing_contract_end=keep("existing_contract_end"),
                option_expected_join=keep("option_expected_join"),
                estimated_annual_value=wanted.get("estimated_annual_value"),
            )
        changed = True
    exercised = wanted.get("option_exercised_on")
    if exercised and not current.option_exercised_on:
        services.participation_exercise_option(
            participation=current, actor=actor, exercised_on=exercised
        )
        changed = True
    return changed


class _RegionError(Exception):
    def __init__(self, region_code: str, error: ValidationError):
        super().__init__(region_code)
        self.region_code = region_code
        self.error = error


def _apply_row(plan: RowPlan, actor) -> str:
    """Create or update one case and its participation; returns created/updated/unchanged."""
    if plan.tender is None:
        tender = services.tender_create(
            actor=actor, reference=plan.reference or None, **_new_case_fields(plan.fields)
        )
        outcome = "created"
    else:
        tender = plan.tender
        changed = _changed_fields(tender, plan.fields)
        if changed:
            services.tender_update(tender=tender, actor=actor, **changed)
        outcome = "updated" if changed else "unchanged"
    participations = {p.region.code: p for p in tender.participations.select_related("region")}
    for code, wanted in plan.participations.items():
        current = participations.get(code)
        if current is None:
            current = Participation(tender=tender, region=Region.objects.get(code=code))
            services._with_actor(current, actor)
            current.save()
        try:
            participation_changed = _apply_participation(current, wanted, actor)
        except ValidationError as exc:
            raise _RegionError(code, exc) from exc
        if participation_changed and outcome == "unchanged":
            outcome = "updated"
    return outcome


def plan_import(file_bytes: bytes, filename: str, actor) -> ImportResult:
    """Import the plan from .xlsx or .csv: every row is checked first; all or nothing."""
    if not permissions.can_import_plan(actor):
        raise PermissionDenied(_("Only the secretariat imports the plan."))
    result = ImportResult()
    errors = result.errors
    try:
        rows, decimal_comma = read_rows(file_bytes, filename)
    except UnreadableFile as exc:
        errors.append(RowError(0, "", filename, str(exc)))
        return result
    if not rows:
        errors.append(RowError(0, "", filename, _("The file is empty.")))
        return result
    lookups = Lookups()
    layout = read_layout(rows[0], lookups, errors)
    if decimal_comma is None:
        decimal_comma = not layout.english
    data_rows = [
        (number, values)
        for number, values in enumerate(rows[1:], start=2)
        if any(not Cell(number, "", v).empty for v in values)
    ]
    if len(data_rows) > MAX_IMPORT_ROWS:
        errors.append(
            RowError(0, "", str(len(data_rows)), _("At most %(n)d rows.") % {"n": MAX_IMPORT_ROWS})
        )
    if errors:
        return result

    existing = {
        t.reference.upper(): t
        for t in TenderCase.objects.select_related("category", "lead_region", "lead_partner")
    }
    current_participations: dict[int, dict[str, Participation]] = {}
    for participation in Participation.objects.select_related("region", "opt_out_reason"):
        current_participations.setdefault(participation.tender_id, {})[
            participation.region.code
        ] = participation
    seen: dict[str, int] = {}
    plans: list[RowPlan] = []
    for number, values in data_rows:
        before = len(errors)
        plan = _parse_row(number, values, layout, lookups, decimal_comma, errors)
        if plan.reference:
            key = plan.reference.upper()
            if key in seen:
                errors.append(
                    RowError(
                        number,
                        layout.header("reference"),
                        plan.reference,
                        _("The reference is also on row %(row)d.") % {"row": seen[key]},
                    )
                )
            seen.setdefault(key, number)
            plan.tender = existing.get(key)
        if len(errors) > before:
            continue
        tender = _validate_tender(plan, layout, errors)
        currents = current_participations.get(plan.tender.pk, {}) if plan.tender else {}
        for code, wanted in plan.participations.items():
            _validate_participation(
                plan, code, wanted, currents.get(code), tender, layout, lookups, errors
            )
        plans.append(plan)
    if errors:
        return result

    # Rows that name their reference go first, so a generated one never takes it.
    plans.sort(key=lambda plan: (not plan.reference, plan.row))
    with transaction.atomic():
        for plan in plans:
            try:
                with transaction.atomic():
                    outcome = _apply_row(plan, actor)
            except ValidationError as exc:
                errors.extend(_field_errors(plan, layout, exc))
                continue
            except _RegionError as exc:
                errors.extend(_field_errors(plan, layout, exc.error, exc.region_code))
                continue
            except PermissionDenied as exc:
                errors.append(RowError(plan.row, "", plan.reference, str(exc)))
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
        if errors:
            transaction.set_rollback(True)
            result.created = result.updated = result.unchanged = 0
    return result


def export_filename(stem: str) -> str:
    return f"{stem}-{timezone.localdate():%Y-%m-%d}.xlsx"
