"""Import contracts from .csv or .xlsx: every row checked, all errors collected, all or nothing.

Columns (English or Danish headers): region, supplier_id, supplier_name, title,
category, start_date, end_date, annual_value, kind, tender_reference; optional
extended_until, registered_after_the_fact and country. CSV: ``;``, ``,`` or tab,
UTF-8 with or without BOM or Windows-1252, decimal comma or point, dates
dd-mm-yyyy, dd.mm.yyyy or ISO. A row naming a contract already registered (same
region, supplier, title and start) updates it, so a file can be imported again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rfi import permissions
from rfi.models import Category, Region
from rfi.spreadsheet import checks, read
from rfi.spreadsheet.cells import CellError, parse_date
from rfi.spreadsheet.errors import FileRefused
from suppliers import services
from suppliers.models import Contract, Supplier
from tenders.models import TenderCase

MAX_ROWS = 50_000
# An .xlsx is a zip: refuse one that unpacks to far more than a contract list can hold.
MAX_XLSX_UNPACKED = 200 * 1024 * 1024

# canonical column → accepted headers (compared after _normal()).
COLUMNS: dict[str, tuple[str, ...]] = {
    "region": ("region", "region_code", "regionskode"),
    "supplier_id": (
        "supplier_id",
        "supplier_identifier",
        "leverandør_id",
        "leverandørid",
        "leverandør_nr",
        "leverandørnummer",
        "cvr",
        "cvr_nr",
        "cvrnr",
        "cvr_nummer",
    ),
    "supplier_name": (
        "supplier_name",
        "supplier",
        "leverandørnavn",
        "leverandør_navn",
        "leverandør",
    ),
    "title": ("title", "titel", "kontrakttitel", "kontrakt", "aftale", "aftalenavn"),
    "category": ("category", "kategori", "cpv", "cpv_kode", "cpv_code"),
    "start_date": ("start_date", "start", "startdato", "kontraktstart", "gyldig_fra"),
    "end_date": ("end_date", "end", "slutdato", "udløbsdato", "kontraktudløb", "gyldig_til"),
    "annual_value": (
        "annual_value",
        "value",
        "årlig_værdi",
        "årsværdi",
        "årlig_kontraktsum",
        "værdi",
    ),
    "kind": ("kind", "type", "kontrakttype", "aftaletype"),
    "tender_reference": ("tender_reference", "tender", "udbudsreference", "udbud", "fup_reference"),
    "extended_until": ("extended_until", "forlænget_til", "forlængelse_til", "forlænget"),
    "registered_after_the_fact": (
        "registered_after_the_fact",
        "registreret_efterfølgende",
        "efterregistreret",
    ),
    "country": ("country", "supplier_country", "land", "leverandørland"),
}
DANISH_HEADERS = {
    "region": "region",
    "supplier_id": "leverandør_id",
    "supplier_name": "leverandørnavn",
    "title": "titel",
    "category": "kategori",
    "start_date": "startdato",
    "end_date": "slutdato",
    "annual_value": "årlig_værdi",
    "kind": "type",
    "tender_reference": "udbudsreference",
}
REQUIRED = ("region", "supplier_id", "title", "category", "start_date", "end_date")
KINDS = {
    "framework": Contract.Kind.FRAMEWORK,
    "framework_agreement": Contract.Kind.FRAMEWORK,
    "rammeaftale": Contract.Kind.FRAMEWORK,
    "ramme": Contract.Kind.FRAMEWORK,
    "one_off": Contract.Kind.ONE_OFF,
    "one_off_purchase": Contract.Kind.ONE_OFF,
    "engangskøb": Contract.Kind.ONE_OFF,
    "enkeltkøb": Contract.Kind.ONE_OFF,
    "engangsaftale": Contract.Kind.ONE_OFF,
}
TRUE_WORDS = {"1", "x", "yes", "y", "true", "ja", "j", "sand"}
FALSE_WORDS = {"", "0", "no", "n", "false", "nej", "falsk"}
CPV_PATTERN = re.compile(r"^(\d{8})(?:-(\d))?$")


@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class UnreadableFile(ValueError):
    """The file is not a .csv or .xlsx the import can read."""


# Reading --------------------------------------------------------------------------------------


def _normal(header) -> str:
    text = str(header or "").replace("\ufeff", "").strip().lower()
    text = re.sub(r"[\s\-./]+", "_", text).strip("_")
    return text.replace("æ", "ae").replace("ø", "oe").replace("å", "aa")


ALIASES = {_normal(alias): name for name, aliases in COLUMNS.items() for alias in aliases}
KIND_WORDS = {_normal(word): kind for word, kind in KINDS.items()}


def _read_csv(data: bytes) -> tuple[list[list], bool]:
    try:
        checks.check_csv_bytes(data)
    except FileRefused as exc:
        raise UnreadableFile(_("The file is not a text (CSV) file.")) from exc
    text = read.decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    return rows, delimiter != ","


def _read_xlsx(data: bytes) -> list[list]:
    """The contracts' sheet of a workbook that passed rfi.spreadsheet.checks (zip bomb,
    DOCTYPE/XXE, damaged parts)."""
    try:
        checks.check_xlsx(data, max_uncompressed=MAX_XLSX_UNPACKED)
        sheets = read.xlsx_sheets(data)
    except FileRefused as exc:
        raise UnreadableFile(str(exc.message)) from exc
    for rows in sheets:
        # The contracts are on the first sheet whose header names a title column.
        if rows and any(ALIASES.get(_normal(v)) == "title" for v in rows[0]):
            return rows
    return sheets[0] if sheets else []


def read_table(data: bytes, filename: str) -> tuple[list[list], bool]:
    """The rows of the file, and whether text amounts use a decimal comma."""
    name = filename.lower()
    if name.endswith(".xlsx") or (not name.endswith(".csv") and data[:2] == b"PK"):
        return _read_xlsx(data), True
    if name.endswith((".csv", ".txt")):
        return _read_csv(data)
    raise UnreadableFile(_("Upload an .xlsx or .csv file."))


# Cells ----------------------------------------------------------------------------------------


def _text(raw) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime | dt.date):
        return raw.strftime("%d-%m-%Y")
    return "" if raw is None else str(raw).strip()


# Danish 1.250.000,50 or 1250000,50; English 1,250,000.50 or 1250000.50; or whole numbers.
COMMA_DECIMAL = re.compile(r"^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?$")
POINT_DECIMAL = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")


def parse_amount(raw, *, decimal_comma: bool) -> Decimal:
    """An annual value in DKK: a number cell, or text with a decimal comma or point.

    Thousands separators must group by three ("12,34,5" is refused); a lone separator
    the file's convention does not use for decimals ("1.500" in a Danish file) is one.
    """
    if isinstance(raw, bool):
        raise CellError(_("Not an amount."))
    if isinstance(raw, int | float | Decimal):
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    else:
        text = re.sub(r"(?i)\s|kr\.?|dkk", "", str(raw).replace("\xa0", ""))
        patterns = (
            (COMMA_DECIMAL, "."),
            (POINT_DECIMAL, ","),
        )
        if not decimal_comma:
            patterns = patterns[::-1]
        value = None
        for pattern, thousands in patterns:
            match = pattern.match(text)
            if match:
                whole, fraction = match.groups()
                value = Decimal(whole.replace(thousands, "") + "." + (fraction or "0"))
                break
        if value is None:
            raise CellError(
                _("Not an amount: write e.g. 1.250.000,50 or 1250000.50.")
                if not text.startswith("-")
                else _("The annual value cannot be negative.")
            )
    if not value.is_finite():
        raise CellError(_("Not an amount."))
    if value < 0:
        raise CellError(_("The annual value cannot be negative."))
    value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if len(value.as_tuple().digits) > 15:
        raise CellError(_("The amount is too large."))
    return value


class _Lookups:
    """Reference rows resolved once per import."""

    def __init__(self, actor) -> None:
        self.actor = actor
        self.regions: dict[str, Region] = {}
        for region in Region.objects.all():
            for key in (region.code, region.name_da, region.name_en):
                if key:
                    self.regions.setdefault(key.strip().lower(), region)
        self.tenders = {
            ref.lower(): pk for pk, ref in TenderCase.objects.values_list("pk", "reference")
        }
        self.categories: dict[str, Category | None] = {}
        self.known_suppliers: set[str] = set()

    def category(self, code: str) -> Category | None:
        if code not in self.categories:
            self.categories[code] = Category.objects.filter(code=code).first()
        return self.categories[code]

    def load_suppliers(self, identifiers: set[str]) -> None:
        self.known_suppliers = set(
            Supplier.objects.filter(identifier__in=identifiers).values_list("identifier", flat=True)
        )


def _region(raw, lookups: _Lookups) -> Region:
    text = _text(raw)
    if not text:
        raise CellError(_("Give the region's code, e.g. RM."))
    region = lookups.regions.get(text.lower())
    if region is None:
        raise CellError(_("Unknown region; use a code such as RH, RSJ, RSD, RM or RN."))
    if not region.active:
        raise CellError(_("The region is not active in the collaboration."))
    actor = lookups.actor
    if actor is not None and not permissions.can_register_contract_for(actor, region):
        raise CellError(_("You may import contracts of your own region only."))
    return region


def _category(raw, lookups: _Lookups) -> Category:
    text = _text(raw).replace(" ", "")
    if isinstance(raw, int | float) and not isinstance(raw, bool) and len(text) == 7:
        text = text.zfill(8)  # a spreadsheet drops the leading zero of 03000000
    if not text:
        raise CellError(_("Give the contract's CPV code."))
    match = CPV_PATTERN.match(text)
    if not match:
        raise CellError(_("Type a CPV code of eight digits, e.g. 33141000 or 33141000-0."))
    code, digit = match.groups()
    category = lookups.category(code)
    if category is None:
        raise CellError(_("The CPV code %(code)s does not exist.") % {"code": code})
    if digit is not None and digit != category.check_digit:
        raise CellError(
            _("The check digit of %(code)s is %(digit)s, not %(given)s.")
            % {"code": code, "digit": category.check_digit, "given": digit}
        )
    return category


def _kind(raw) -> str:
    text = _normal(_text(raw))
    if not text:
        return Contract.Kind.FRAMEWORK
    if text not in KIND_WORDS:
        raise CellError(_("Unknown kind; write framework (rammeaftale) or one_off (engangskøb)."))
    return KIND_WORDS[text]


def _flag(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(_("Write yes or no (ja/nej)."))


def _tender(raw, lookups: _Lookups) -> int | None:
    text = _text(raw)
    if not text:
        return None
    pk = lookups.tenders.get(text.lower())
    if pk is None:
        raise CellError(_("No tender case has this reference."))
    return pk


# Rows ---------------------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    supplier: dict
    contract: dict


def _layout(header: list, errors: list[RowError]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = ALIASES.get(_normal(raw))
        if name is None:
            continue
        if name in positions:
            errors.append(
                RowError(1, _text(raw), _text(raw), _("Two columns mean the same: %s.") % name)
            )
            continue
        positions[name] = index
    for name in REQUIRED:
        if name not in positions:
            errors.append(
                RowError(
                    1,
                    name,
                    "",
                    _("The column “%(name)s” is missing (Danish: %(da)s).")
                    % {"name": name, "da": DANISH_HEADERS[name]},
                )
            )
    return positions


def _parse_row(
    number: int,
    cells: dict[str, object],
    lookups: _Lookups,
    decimal_comma: bool,
    errors: list[RowError],
) -> _Row | None:
    found: list[RowError] = []
    values: dict[str, object] = {}

    def parse(name: str, parser) -> None:
        raw = cells.get(name)
        try:
            values[name] = parser(raw)
        except CellError as exc:
            found.append(RowError(number, name, _text(raw), str(exc)))
        except ValidationError as exc:
            for message in exc.messages:
                found.append(RowError(number, name, _text(raw), message))

    parse("region", lambda raw: _region(raw, lookups))
    parse("country", services.supplier_country_clean)
    country = values.get("country", "DK")
    parse("supplier_id", lambda raw: services.supplier_identifier_clean(_text(raw), country))
    parse("supplier_name", lambda raw: " ".join(_text(raw).split()))
    parse("title", _title)
    parse("category", lambda raw: _category(raw, lookups))
    parse("start_date", _required_date)
    parse("end_date", _required_date)
    parse("extended_until", lambda raw: parse_date(raw) if _text(raw) else None)
    parse(
        "annual_value",
        lambda raw: parse_amount(raw, decimal_comma=decimal_comma) if _text(raw) else None,
    )
    parse("kind", _kind)
    parse("tender_reference", lambda raw: _tender(raw, lookups))
    parse("registered_after_the_fact", _flag)

    name = values.get("supplier_name")
    if len(name or "") > Supplier._meta.get_field("name").max_length:
        found.append(RowError(number, "supplier_name", name[:80], _("The name is too long.")))
    start, end, extended = (values.get(k) for k in ("start_date", "end_date", "extended_until"))
    if start and end and end < start:
        found.append(
            RowError(number, "end_date", _text(cells.get("end_date")), _("Ends before it starts."))
        )
    if extended and end and extended < end:
        found.append(
            RowError(
                number,
                "extended_until",
                _text(cells.get("extended_until")),
                _("The extension ends before the contract does."),
            )
        )
    if found:
        errors.extend(found)
        return None
    return _Row(
        number=number,
        supplier={
            "identifier": values["supplier_id"],
            "name": values["supplier_name"],
            "country": values["country"],
        },
        contract={
            "region": values["region"],
            "title": values["title"],
            "category": values["category"],
            "start_date": start,
            "end_date": end,
            "extended_until": extended,
            "annual_value": values["annual_value"],
            "kind": values["kind"],
            "tender_id": values["tender_reference"],
            "registered_after_the_fact": values["registered_after_the_fact"],
        },
    )


def _title(raw) -> str:
    text = " ".join(_text(raw).split())
    if not text:
        raise CellError(_("Give the contract a title."))
    if len(text) > Contract._meta.get_field("title").max_length:
        raise CellError(_("The title is longer than 300 characters."))
    return text


def _required_date(raw) -> dt.date:
    if not _text(raw):
        raise CellError(_("Give a date (dd-mm-yyyy)."))
    return parse_date(raw)


def _key(row: _Row) -> tuple:
    data = row.contract
    return (
        data["region"].pk,
        row.supplier["identifier"],
        data["title"].lower(),
        data["start_date"],
    )


def _existing_contracts(rows: list[_Row]) -> dict[tuple, Contract]:
    identifiers = {row.supplier["identifier"] for row in rows}
    existing = Contract.objects.filter(supplier__identifier__in=identifiers).select_related(
        "region", "supplier"
    )
    return {
        (c.region_id, c.supplier.identifier, c.title.lower(), c.start_date): c for c in existing
    }


# A service's field → the file's column.
SERVICE_COLUMNS = {
    "identifier": "supplier_id",
    "name": "supplier_name",
    "supplier": "supplier_id",
    "tender": "tender_reference",
    "__all__": "",
}


class _Refused(Exception):
    pass


def contracts_import(data: bytes, filename: str, actor) -> ImportResult:
    """Check every row, then save all of them in one transaction, or none."""
    result = ImportResult()
    try:
        table, decimal_comma = read_table(data, filename)
    except UnreadableFile as exc:
        result.errors.append(RowError(0, "", filename, str(exc)))
        return result
    table = [row for row in table if any(_text(cell) for cell in row)]
    if not table:
        result.errors.append(RowError(0, "", filename, _("The file is empty.")))
        return result
    positions = _layout(table[0], result.errors)
    if result.errors:
        return result
    if len(table) == 1:
        result.errors.append(RowError(0, "", filename, _("The file has a header but no rows.")))
        return result
    if len(table) - 1 > MAX_ROWS:
        result.errors.append(
            RowError(0, "", filename, _("More than %(n)d rows; split the file.") % {"n": MAX_ROWS})
        )
        return result

    # Errors name the column as the file's header does.
    headers = {name: _text(table[0][i]) or name for name, i in positions.items()}
    lookups = _Lookups(actor)
    rows: list[_Row] = []
    for number, raw_row in enumerate(table[1:], start=2):
        cells = {name: raw_row[i] if i < len(raw_row) else None for name, i in positions.items()}
        row = _parse_row(number, cells, lookups, decimal_comma, result.errors)
        if row is not None:
            rows.append(row)
    result.rows = len(table) - 1

    lookups.load_suppliers({row.supplier["identifier"] for row in rows})
    named = set(lookups.known_suppliers)
    first_row: dict[tuple, int] = {}
    for row in rows:
        identifier = row.supplier["identifier"]
        if row.supplier["name"]:
            named.add(identifier)
        elif identifier not in named:
            result.errors.append(
                RowError(row.number, "supplier_name", "", _("Give the name of a new supplier."))
            )
        key = _key(row)
        if key in first_row:
            result.errors.append(
                RowError(
                    row.number,
                    "title",
                    row.contract["title"],
                    _("The same contract (region, supplier, title, start) as row %(row)d.")
                    % {"row": first_row[key]},
                )
            )
        first_row.setdefault(key, row.number)
    if result.errors:
        order = list(COLUMNS)
        result.errors.sort(
            key=lambda e: (e.row, order.index(e.column) if e.column in order else len(order))
        )
        for error in result.errors:
            error.column = headers.get(error.column, error.column)
        return result

    try:
        with transaction.atomic():
            _save(rows, actor, result)
            if result.errors:
                raise _Refused
    except _Refused:
        result.created = result.updated = result.unchanged = 0
        for error in result.errors:
            error.column = headers.get(error.column, error.column)
    return result


def _save(rows: list[_Row], actor, result: ImportResult) -> None:
    existing = _existing_contracts(rows)
    for row in rows:
        try:
            supplier = services.supplier_upsert(actor=actor, **row.supplier)
            fields = dict(row.contract, supplier=supplier)
            tender_id = fields.pop("tender_id")
            fields["tender"] = TenderCase.objects.get(pk=tender_id) if tender_id else None
            current = existing.get(_key(row))
            if current is None:
                existing[_key(row)] = services.contract_create(actor=actor, **fields)
                result.created += 1
            elif _changed(current, fields):
                services.contract_update(contract=current, actor=actor, **fields)
                result.updated += 1
            else:
                result.unchanged += 1
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = SERVICE_COLUMNS.get(name, name)
                for message in messages:
                    result.errors.append(RowError(row.number, column, "", message))
        except PermissionDenied as exc:
            result.errors.append(RowError(row.number, "region", "", str(exc)))


def _changed(contract: Contract, fields: dict) -> bool:
    for name, value in fields.items():
        current = getattr(contract, name)
        if isinstance(value, Decimal) and current is not None:
            if Decimal(current) != value:
                return True
        elif current != value:
            return True
    return False
