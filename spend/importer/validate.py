"""Validate and normalise a chunk of raw text columns, vectorised with pyarrow.compute.

Every value of every row is checked; each invalid value becomes a RowError (row, column
as headed in the file, value, why), so a refused file reports all its problems at once.
Valid chunks come out as typed columns ready for the database: dates, exact decimals
(``decimal128(15, 2)``, never float), trimmed texts, canonical ordering channels and
8-digit CPV codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.utils.translation import gettext as _

from rfi.formatting import currency_words
from spend.importer.columns import ColumnMap
from spend.importer.errors import RowError
from spend.importer.parse import RawChunk

AMOUNT_TYPE = pa.decimal128(15, 2)
# (column, max length, value required)
TEXT_COLUMNS = (
    ("voucher_no", 40, False),
    ("invoice_no", 60, True),
    ("supplier_name", 300, False),
    ("account", 20, True),
    ("cost_centre", 40, False),
    ("description", 500, False),
)
OUTPUT_SCHEMA = pa.schema(
    [
        ("row_number", pa.int64()),
        ("posting_date", pa.date32()),
        ("voucher_no", pa.string()),
        ("invoice_no", pa.string()),
        ("supplier_id", pa.string()),
        ("supplier_name", pa.string()),
        ("account", pa.string()),
        ("cost_centre", pa.string()),
        ("amount", AMOUNT_TYPE),
        ("description", pa.string()),
        ("order_channel", pa.string()),
        ("category_code", pa.string()),
    ]
)
FIRST_YEAR, LAST_YEAR = 1990, 2099
DATE_PATTERNS = (
    r"^(?P<d>\d{1,2})-(?P<m>\d{1,2})-(?P<y>\d{4})$",
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$",
    r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$",
    r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$",
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$",
)
DAYS_IN_MONTH = pa.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int32())
# Thousands separators: the other mark, space, no-break space, narrow no-break space, '.
_GROUPS = r"(?:\d{1,3}(?:%s\d{3})+|\d{1,3}(?: \d{3})+|\d{1,3}(?:\x{00a0}\d{3})+|\d{1,3}(?:\x{202f}\d{3})+|\d{1,3}(?:'\d{3})+|\d+)"
MAX_INTEGER_DIGITS = 13  # Decimal(15, 2)
CHANNELS = {
    "e_order": (
        "e_order",
        "e-order",
        "eorder",
        "e order",
        "e-ordre",
        "eordre",
        "e ordre",
        "e-handel",
        "ehandel",
        "edi",
        "elektronisk",
        "elektronisk ordre",
    ),
    "purchasing_system": (
        "purchasing_system",
        "purchasing system",
        "indkøbssystem",
        "indkobssystem",
        "indkoebssystem",
        "indkøb",
        "katalog",
        "katalogkøb",
    ),
    "manual": ("manual", "manuel", "manuelt", "manuel ordre", "fritekst"),
    "": ("", "-", "ukendt", "unknown", "ingen", "none", "n/a"),
}
_CHANNEL_KEYS = pa.array([key for keys in CHANNELS.values() for key in keys])
_CHANNEL_VALUES = pa.array([value for value, keys in CHANNELS.items() for _key in keys])


@dataclass(frozen=True)
class Rules:
    """What a file is checked against: its region, decimal mark, the period if given."""

    columns: ColumnMap
    region_code: str
    region_names: tuple[str, ...]
    decimal_comma: bool
    period: tuple[dt.date, dt.date] | None = None
    # CPV code → check digit (the category tree), read before the import starts: a code
    # given with its check digit must carry the right one (rfi.cpv's rule).
    check_digits: dict[str, str] | None = None


@dataclass
class Checked:
    table: pa.Table
    errors: list[RowError]
    total: Decimal
    first_date: dt.date | None
    last_date: dt.date | None


# Spaces an amount may have between it and its currency: plain, no-break, narrow no-break.
_GAP = r"[\s\x{00a0}\x{202f}]*"
# Another currency than the collaboration's, before or after a number: a code or a sign.
_OTHER_CURRENCY = (
    rf"(?i)^(?:[a-z]{{3}}|[€$£]){_GAP}[-+]?\d[\d.,' \x{{00a0}}\x{{202f}}]*-?$"
    rf"|^[-+]?\d[\d.,' \x{{00a0}}\x{{202f}}]*-?{_GAP}(?:[a-z]{{3}}|[€$£])$"
)


def without_currency(values: pa.Array) -> pa.Array:
    """Amounts written with the collaboration's currency before or after them
    ("1.234,56 kr.", "DKK 1.234,56", "1 200 000 kr") as the bare numbers."""
    words = currency_words()
    return pc.replace_substring_regex(values, rf"(?i)^(?:{words}){_GAP}|{_GAP}(?:{words})$", "")


def detect_decimal_comma(values: pa.Array, separator: str) -> bool:
    """True when the amounts use a decimal comma (``1.234,56``), from a sample of them."""
    sample = without_currency(pc.utf8_trim_whitespace(values.slice(0, 100_000)))

    def count(pattern: str) -> int:
        return pc.sum(pc.match_substring_regex(sample, pattern).cast(pa.int64())).as_py() or 0

    comma, point = count(r"\d,\d{1,2}-?$"), count(r"\d\.\d{1,2}-?$")
    if comma != point:
        return comma > point
    point_groups, comma_groups = count(r"\d\.\d{3}(?:\D|$)"), count(r"\d,\d{3}(?:\D|$)")
    if point_groups != comma_groups:
        return point_groups > comma_groups
    return separator != ","


def _mask(array: pa.Array) -> pa.Array:
    return pc.fill_null(array, False)


class _Report:
    """Collects errors of one chunk, in row order."""

    def __init__(self, chunk: RawChunk, columns: ColumnMap):
        self.rows = chunk.rows
        self.columns = columns
        self.errors: list[RowError] = list(chunk.errors)

    def add(
        self,
        mask: pa.Array,
        values: pa.Array,
        canonical: str,
        reason: str | Callable[[str], str],
    ) -> None:
        mask = _mask(mask)
        if not len(mask) or not pc.any(mask).as_py():
            return
        where = pc.indices_nonzero(mask)
        header = self.columns.header(canonical)
        rows = pc.take(self.rows, where).to_pylist()
        texts = pc.take(values, where).to_pylist()
        for row, value in zip(rows, texts, strict=True):
            why = reason(value) if callable(reason) else reason
            self.errors.append(RowError(row, header, value, why))

    def sorted(self) -> list[RowError]:
        order = {name: i for i, name in enumerate(self.columns.headers.values())}
        return sorted(self.errors, key=lambda e: (e.row or 0, order.get(e.column, -1)))


def _empty(values: pa.Array) -> pa.Array:
    return pc.equal(pc.utf8_length(values), 0)


def check(chunk: RawChunk, rules: Rules) -> Checked:
    """Validate and normalise one chunk."""
    report = _Report(chunk, rules.columns)
    length = chunk.num_rows
    raw = {name: pc.utf8_trim_whitespace(values) for name, values in chunk.columns.items()}
    blank = pa.repeat("", length) if length else pa.array([], pa.string())

    dates = _dates(raw["posting_date"], rules, report)
    amounts = _amounts(raw["amount"], rules, report)
    supplier_ids = _supplier_ids(raw["supplier_id"], report)
    texts = {}
    for name, max_length, required in TEXT_COLUMNS:
        values = raw[name]
        if required:
            report.add(_empty(values), values, name, _("is empty; a value is required"))
        too_long = pc.greater(pc.utf8_length(values), max_length)
        report.add(
            too_long,
            values,
            name,
            _("is longer than %(max)d characters") % {"max": max_length},
        )
        texts[name] = values
    channels = _channels(raw.get("order_channel"), report, length)
    codes = _category_codes(raw.get("category_code"), report, length, rules.check_digits)
    if "region" in raw:
        _regions(raw["region"], rules, report)

    table = pa.Table.from_arrays(
        [
            chunk.rows,
            dates,
            texts["voucher_no"],
            texts["invoice_no"],
            supplier_ids,
            texts["supplier_name"],
            texts["account"],
            texts["cost_centre"],
            amounts,
            texts["description"],
            channels if channels is not None else blank,
            codes if codes is not None else blank,
        ],
        schema=OUTPUT_SCHEMA,
    )
    errors = report.sorted()
    total = pc.sum(amounts).as_py() if length else None
    return Checked(
        table=table,
        errors=errors,
        total=total or Decimal("0.00"),
        first_date=pc.min(dates).as_py() if length else None,
        last_date=pc.max(dates).as_py() if length else None,
    )


def _iso_if_all_danish(values: pa.Array) -> pa.Array | None:
    """Fast path: every value is a real dd-mm-yyyy date within the years → ISO strings."""
    if not pc.all(pc.match_substring_regex(values, r"^\d{2}-\d{2}-(?:19|20)\d{2}$")).as_py():
        return None
    iso = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(values, 6, 10),
        pc.utf8_slice_codeunits(values, 3, 5),
        pc.utf8_slice_codeunits(values, 0, 2),
        "-",
    )
    try:
        dates = pc.cast(iso, pa.date32())  # strict: 31-02 raises, for the whole chunk
    except pa.ArrowInvalid:
        return None
    low, high = pc.min_max(dates).values()
    if low.as_py() and (low.as_py().year < FIRST_YEAR or high.as_py().year > LAST_YEAR):
        return None
    return dates


def _dates(values: pa.Array, rules: Rules, report: _Report) -> pa.Array:
    length = len(values)
    fast = _iso_if_all_danish(values) if length else None
    if fast is not None:
        if rules.period:
            _outside_period(fast, values, rules, report, pc.is_valid(fast))
        return fast
    year = month = day = None
    for pattern in DATE_PATTERNS:
        if year is not None and pc.all(pc.is_valid(year)).as_py():
            break
        parts = pc.extract_regex(values, pattern)
        found = [pc.struct_field(parts, name) for name in ("y", "m", "d")]
        if year is None:
            year, month, day = found
        else:
            year = pc.coalesce(year, found[0])
            month = pc.coalesce(month, found[1])
            day = pc.coalesce(day, found[2])
    if not length:
        return pa.array([], pa.date32())
    y, m, d = (pc.cast(part, pa.int32()) for part in (year, month, day))
    matched = pc.is_valid(y)
    leap = pc.or_(
        pc.and_(
            pc.equal(pc.subtract(y, pc.multiply(pc.divide(y, 4), 4)), 0),
            pc.not_equal(pc.subtract(y, pc.multiply(pc.divide(y, 100), 100)), 0),
        ),
        pc.equal(pc.subtract(y, pc.multiply(pc.divide(y, 400), 400)), 0),
    )
    month_ok = pc.and_(pc.greater_equal(m, 1), pc.less_equal(m, 12))
    safe_month = pc.if_else(_mask(month_ok), m, 0)
    days = pc.add(
        pc.take(DAYS_IN_MONTH, safe_month),
        pc.cast(_mask(pc.and_(pc.equal(m, 2), leap)), pa.int32()),
    )
    real = _mask(pc.and_(month_ok, pc.and_(pc.greater_equal(d, 1), pc.less_equal(d, days))))
    in_years = _mask(pc.and_(pc.greater_equal(y, FIRST_YEAR), pc.less_equal(y, LAST_YEAR)))
    iso = pc.binary_join_element_wise(
        year,
        pc.utf8_lpad(month, width=2, padding="0"),
        pc.utf8_lpad(day, width=2, padding="0"),
        "-",
    )
    good = pc.and_(real, in_years)
    dates = pc.cast(pc.if_else(good, iso, "1970-01-01"), pa.date32())

    empty = _empty(values)
    report.add(empty, values, "posting_date", _("is empty; a posting date is required"))
    report.add(
        pc.and_(pc.invert(empty), pc.invert(_mask(matched))),
        values,
        "posting_date",
        _("is not a date: write dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd"),
    )
    report.add(
        pc.and_(_mask(matched), pc.invert(real)),
        values,
        "posting_date",
        _("is not a real date (no such day in that month)"),
    )
    report.add(
        pc.and_(real, pc.invert(in_years)),
        values,
        "posting_date",
        _("has a year outside %(first)d–%(last)d") % {"first": FIRST_YEAR, "last": LAST_YEAR},
    )
    if rules.period:
        _outside_period(dates, values, rules, report, good)
    return dates


def _outside_period(dates, values, rules: Rules, report: _Report, good) -> None:
    start, end = rules.period
    outside = pc.or_(
        pc.less(dates, pa.scalar(start, pa.date32())),
        pc.greater(dates, pa.scalar(end, pa.date32())),
    )
    report.add(
        pc.and_(good, outside),
        values,
        "posting_date",
        _("is outside the period %(start)s – %(end)s")
        % {"start": start.strftime("%d-%m-%Y"), "end": end.strftime("%d-%m-%Y")},
    )


def _amounts(values: pa.Array, rules: Rules, report: _Report) -> pa.Array:
    if rules.decimal_comma:
        groups, decimals, thousands = _GROUPS % r"\.", ",", "."
        example = "1.234,56"
    else:
        groups, decimals, thousands = _GROUPS % ",", r"\.", ","
        example = "1,234.56"
    number = rf"{groups}(?:{decimals}\d{{1,2}})?"
    written = values
    valid = pc.match_substring_regex(values, rf"^(?:[-+]?{number}|{number}-)$")
    other_currency = pa.repeat(False, len(values))
    if not pc.all(valid).as_py():
        # Only where some value is not a bare number: "1.234,56 kr.", "DKK 1.234,56".
        values = without_currency(values)
        valid = pc.match_substring_regex(values, rf"^(?:[-+]?{number}|{number}-)$")
        other_currency = pc.and_(
            pc.invert(valid), pc.match_substring_regex(values, _OTHER_CURRENCY)
        )
    core = values
    # The sign: a leading minus stays where the decimal cast reads it; a trailing one (SAP's
    # "500,00-") moves to the front and a leading plus goes, each only where a value has it.
    trailing = pc.ends_with(core, "-")
    if pc.any(trailing).as_py():
        moved = pc.binary_join_element_wise("-", pc.utf8_rtrim(core, characters="-"), "")
        core = pc.if_else(trailing, moved, core)
    if pc.any(pc.starts_with(core, "+")).as_py():
        core = pc.utf8_ltrim(core, characters="+")
    # Plain replaces of the marks present: cheaper than one regex replace.
    for mark in (thousands, " ", "\u00a0", "\u202f", "'"):
        if pc.any(pc.match_substring(core, mark)).as_py():
            core = pc.replace_substring(core, mark, "")
    if rules.decimal_comma:
        core = pc.replace_substring(core, ",", ".")
    fits = pc.match_substring_regex(core, rf"^-?\d{{1,{MAX_INTEGER_DIGITS}}}(?:\.\d{{1,2}})?$")
    good = pc.and_(valid, fits)
    amounts = pc.cast(pc.if_else(good, core, "0"), AMOUNT_TYPE)

    empty = _empty(values)
    report.add(empty, written, "amount", _("is empty; an amount is required"))
    report.add(
        other_currency,
        written,
        "amount",
        _("is in another currency: the ledger's amounts are in %(currency)s")
        % {"currency": settings.CURRENCY},
    )
    report.add(
        pc.and_(pc.and_(pc.invert(empty), pc.invert(valid)), pc.invert(other_currency)),
        written,
        "amount",
        _("is not an amount: write e.g. %(example)s or -%(example)s (at most two decimals)")
        % {"example": example},
    )
    report.add(
        pc.and_(valid, pc.invert(fits)),
        written,
        "amount",
        _("is too large (at most %(digits)d digits before the decimal mark)")
        % {"digits": MAX_INTEGER_DIGITS},
    )
    return amounts


def _cvr_reason(value: str) -> str:
    digits = sum(ch.isdigit() for ch in value)
    return _("is not a CVR number: a Danish supplier id has 8 digits, this one has %(count)d") % {
        "count": digits
    }


def _supplier_ids(values: pa.Array, report: _Report) -> pa.Array:
    if pc.all(pc.match_substring_regex(values, r"^\d{8}$")).as_py():
        return values  # all CVR numbers: the usual case
    compact = pc.utf8_upper(pc.replace_substring_regex(values, r"\s+", ""))
    danish_prefix = pc.match_substring_regex(compact, r"^DK\d+$")
    ids = pc.if_else(danish_prefix, pc.utf8_slice_codeunits(compact, 2), compact)
    digits = pc.match_substring_regex(ids, r"^\d+$")
    cvr = pc.and_(digits, pc.equal(pc.utf8_length(ids), 8))
    foreign = pc.and_(
        pc.match_substring_regex(ids, r"^[A-Z]{2}[A-Z0-9-]{2,18}$"),
        pc.invert(pc.starts_with(ids, "DK")),
    )
    empty = _empty(values)
    report.add(empty, values, "supplier_id", _("is empty; a supplier id (CVR) is required"))
    report.add(pc.and_(digits, pc.invert(cvr)), values, "supplier_id", _cvr_reason)
    report.add(
        pc.and_(pc.invert(empty), pc.and_(pc.invert(digits), pc.invert(foreign))),
        values,
        "supplier_id",
        _(
            "is not a supplier id: give the CVR number (8 digits) or, for a foreign supplier, "
            "the country code and organisation number (e.g. SE5560000000)"
        ),
    )
    return ids


def _channels(values: pa.Array | None, report: _Report, length: int) -> pa.Array | None:
    if values is None:
        return None
    position = pc.index_in(pc.utf8_lower(values), value_set=_CHANNEL_KEYS)
    known = pc.is_valid(position)
    report.add(
        pc.invert(known),
        values,
        "order_channel",
        _("is not an ordering channel: use e_order, purchasing_system, manual or leave it empty"),
    )
    return pc.take(_CHANNEL_VALUES, pc.fill_null(position, 0)) if length else values


def _category_codes(
    values: pa.Array | None, report: _Report, length: int, check_digits: dict[str, str] | None
) -> pa.Array | None:
    if values is None:
        return None
    if check_digits:
        _wrong_check_digits(values, report, check_digits)
    if pc.all(pc.match_substring_regex(values, r"^(?:\d{8}(?:-\d)?)?$")).as_py():
        return pc.utf8_slice_codeunits(values, 0, 8)  # the usual case: 8 digits or empty
    compact = pc.replace_substring_regex(values, r"\s+", "")
    parts = pc.extract_regex(compact, r"^(?P<code>\d{7,8})(?:-\d)?$")
    code = pc.struct_field(parts, "code") if length else pa.array([], pa.string())
    bad = pc.and_(pc.invert(_empty(compact)), pc.invert(pc.is_valid(code)))
    report.add(
        bad,
        values,
        "category_code",
        _("is not a CPV code: 8 digits, optionally with the check digit, e.g. 33141000-0"),
    )
    # A spreadsheet drops the leading zero of division 03 codes: 3111000 is 03111000.
    return pc.fill_null(pc.utf8_lpad(code, width=8, padding="0"), "")


def _wrong_check_digits(values: pa.Array, report: _Report, digits: dict[str, str]) -> None:
    """A code given with its check digit must carry the right one (rfi.cpv.parse_code's rule:
    an unknown code passes here). Asked once per distinct value in the chunk, no query."""
    with_digit = pc.unique(
        pc.filter(values, pc.match_substring_regex(values, r"^\s*\d{8}\s*-\s*\d\s*$"))
    ).to_pylist()
    wrong = []
    for value in with_digit:
        compact = "".join(value.split())
        code, given = compact[:8], compact[-1]
        if code in digits and digits[code] != given:
            wrong.append(value)
    if wrong:
        report.add(
            pc.is_in(values, value_set=pa.array(wrong, pa.string())),
            values,
            "category_code",
            lambda value: (
                _("The check digit of %(code)s is %(digit)s, not %(given)s.")
                % {
                    "code": "".join(value.split())[:8],
                    "digit": digits["".join(value.split())[:8]],
                    "given": "".join(value.split())[-1],
                }
            ),
        )


def _regions(values: pa.Array, rules: Rules, report: _Report) -> None:
    accepted = pa.array([rules.region_code.lower(), *(n.lower() for n in rules.region_names)])
    lowered = pc.utf8_lower(values)
    wrong = pc.and_(pc.invert(_empty(values)), pc.invert(pc.is_in(lowered, value_set=accepted)))
    report.add(
        wrong,
        values,
        "region",
        lambda value: (
            _("names region %(value)s, but the file is imported for %(region)s")
            % {"value": value, "region": rules.region_code}
        ),
    )
