"""Savings per year: new, active and realised, as `savings_report` prints them.

Only awarded records count (expected ones are estimates). A record's contract period is
its own contract start and end, else its joint case's; a record without a start is left
out. A contract is active in a year when it runs on any day of it; no end means it runs on.

Realised savings (the issue's suggested method): the awarded annual saving × the
region's compliance that year × the share of the year's days the contract is active
(pro rata for part years). The KPI app keeps compliance per region and year, not per
category, so the region's ``compliance`` KPI for the year stands in for its compliance in
the contract's category. Without a current, available compliance figure the region's
realised saving is unknown (``None``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from rfi.models import Region
from tenders.models import SavingsRecord, TenderCase

CENT = Decimal("0.01")
FRACTION = Decimal("0.0001")
ZERO = Decimal("0.00")

REALISATION_METHOD = (
    "awarded annual saving × the region's compliance KPI for the year × "
    "the share of the year's days the contract is active"
)


def realisation_method_text() -> str:
    """The realisation method in the user's language, shown beside every realised figure."""
    from django.utils.translation import gettext as _

    return _(
        "Realised = awarded annual saving × the region's compliance in the year × the share "
        "of the year's days the contract is active (pro rata for part years)."
    )


@dataclass(frozen=True)
class ActiveSaving:
    record: SavingsRecord
    start: dt.date
    end: dt.date | None

    @property
    def saving(self) -> Decimal:
        return self.record.annual_saving

    def days_in(self, year: int) -> int:
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        start = max(self.start, first)
        end = min(self.end, last) if self.end else last
        return max((end - start).days + 1, 0)


def _period(record: SavingsRecord) -> tuple[dt.date | None, dt.date | None]:
    tender = record.tender
    start = record.contract_start or (tender.contract_start if tender else None)
    end = record.contract_end or (tender.contract_end if tender else None)
    return start, end


def awarded_savings() -> list[ActiveSaving]:
    """Every awarded record with a contract start, with its contract period."""
    records = SavingsRecord.objects.filter(stage__in=SavingsRecord.COUNTED_STAGES).select_related(
        "tender", "region", "category"
    )
    out = []
    for record in records:
        start, end = _period(record)
        if start is not None:
            out.append(ActiveSaving(record, start, end))
    return out


def active_in(year: int, savings: list[ActiveSaving] | None = None) -> list[ActiveSaving]:
    savings = awarded_savings() if savings is None else savings
    return [s for s in savings if s.days_in(year) > 0]


def compliance_by_region(year: int) -> dict[int, Decimal]:
    """Region id → its current, available compliance KPI (a fraction) for the year."""
    from kpi.models import KpiSnapshot

    rows = KpiSnapshot.objects.filter(
        key="compliance",
        region__isnull=False,
        period_kind=KpiSnapshot.PeriodKind.YEAR,
        period_start=dt.date(year, 1, 1),
        is_current=True,
        available=True,
    ).values_list("region_id", "value")
    return {region_id: value for region_id, value in rows if value is not None}


def realised(saving: ActiveSaving, year: int, compliance: Decimal) -> Decimal:
    """One record's realised saving in the year by the method above."""
    days_in_year = (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1
    return saving.saving * compliance * saving.days_in(year) / days_in_year


def _sum(values) -> Decimal:
    return sum(values, ZERO).quantize(CENT, rounding=ROUND_HALF_UP)


def savings_report(year: int) -> dict:
    """The figures of `savings_report --year Y` (keys: see README), amounts as Decimals."""
    everything = awarded_savings()
    active = active_in(year, everything)
    compliance = compliance_by_region(year)

    by_origin = {"joint": [], "regional": []}
    by_kind = {kind: [] for kind in TenderCase.Kind.values}
    per_region: dict[str, list[ActiveSaving]] = defaultdict(list)
    per_case: dict[str, list[ActiveSaving]] = defaultdict(list)
    for saving in active:
        record = saving.record
        by_origin["joint" if record.is_joint else "regional"].append(saving)
        kind = record.effective_kind
        if kind in by_kind:
            by_kind[kind].append(saving)
        per_region[record.region.code].append(saving)
        if record.is_joint:
            per_case[record.tender.reference].append(saving)

    codes = set(Region.objects.filter(active=True).values_list("code", flat=True))
    codes |= set(per_region)
    regions = {}
    for code in sorted(codes):
        rows = per_region.get(code, [])
        region_id = rows[0].record.region_id if rows else None
        if not rows:
            value = ZERO
        elif region_id in compliance:
            value = _sum(realised(s, year, compliance[region_id]) for s in rows)
        else:
            value = None
        regions[code] = {"active": _sum(s.saving for s in rows), "realised": value}

    price_reduction = {}
    for reference in sorted(per_case):
        rows = per_case[reference]
        baseline = sum((s.record.baseline_annual_cost for s in rows), ZERO)
        price_reduction[reference] = (
            (_sum(s.saving for s in rows) / baseline).quantize(FRACTION, rounding=ROUND_HALF_UP)
            if baseline
            else None
        )

    return {
        "year": year,
        "currency": settings.CURRENCY,
        "new_annual_savings": _sum(s.saving for s in everything if s.start.year == year),
        "active_annual_savings": _sum(s.saving for s in active),
        "by_origin": {key: _sum(s.saving for s in rows) for key, rows in by_origin.items()},
        "by_kind": {key: _sum(s.saving for s in rows) for key, rows in by_kind.items()},
        "per_region": regions,
        "price_reduction": price_reduction,
    }


# Import (`import_savings`) -------------------------------------------------------------------

# key, Danish header, English header, other spellings
IMPORT_COLUMNS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("tender", "Udbud", "Tender", ("sag", "reference", "case")),
    ("region", "Region", "Region", ()),
    ("category", "CPV-kode", "Category", ("kategori", "cpv", "cpv code")),
    ("kind", "Aftaletype", "Kind", ("type",)),
    ("baseline_annual_cost", "Årlig udgift før", "Baseline annual cost", ("baseline",)),
    ("new_annual_cost", "Ny årlig udgift", "New annual cost", ()),
    ("method", "Beregningsmetode", "Method", ("metode",)),
    ("contract_start", "Kontraktstart", "Contract start", ()),
    ("contract_end", "Kontraktudløb", "Contract end", ("kontraktslut",)),
)
IMPORT_REQUIRED = ("region", "baseline_annual_cost", "new_annual_cost", "method")


@dataclass
class SavingsImportResult:
    created: int = 0
    updated: int = 0
    errors: list = field(default_factory=list)  # of tenders.excel.RowError


def _import_headers(header_row: list, errors: list) -> tuple[dict[str, tuple[int, str]], bool]:
    """Column key → (index, header as written); and whether the headers are English."""
    from django.utils.translation import gettext as _

    from rfi.spreadsheet.errors import RowError
    from tenders.excel.layout import normalise as _normal

    spellings: dict[str, tuple[str, str]] = {}
    for key, da, en, others in IMPORT_COLUMNS:
        spellings[_normal(da)] = (key, "da")
        spellings[_normal(en)] = (key, "en")
        spellings[_normal(key)] = (key, "en")
        spellings[_normal(key.replace("_", " "))] = (key, "en")
        for other in others:
            spellings.setdefault(_normal(other), (key, "any"))
    found: dict[str, tuple[int, str]] = {}
    languages = {"da": 0, "en": 0, "any": 0}
    for index, raw in enumerate(header_row):
        header = "" if raw is None else str(raw).strip()
        if not header:
            continue
        match = spellings.get(_normal(header))
        if match is None:
            errors.append(RowError(1, header, header, _("Unknown column.")))
            continue
        key, language = match
        if key in found:
            errors.append(RowError(1, header, header, _("The column appears twice.")))
            continue
        found[key] = (index, header)
        languages[language] += 1
    for key in IMPORT_REQUIRED:
        if key not in found:
            header = next(da for k, da, _en, _o in IMPORT_COLUMNS if k == key)
            english = next(en for k, _da, en, _o in IMPORT_COLUMNS if k == key)
            errors.append(RowError(1, f"{header} / {english}", "", _("The column is missing.")))
    return found, languages["en"] > languages["da"]


def import_savings(file_bytes: bytes, filename: str, actor) -> SavingsImportResult:
    """Import awarded savings from .xlsx or .csv: every row is checked first; all or nothing.

    Each row is recorded through the savings services, with their rights (a region's
    officers, the secretariat): a joint case's row by ``savings_record``, a region's own
    contract by ``savings_record_regional``.
    """
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.db import transaction
    from django.utils.translation import gettext as _

    from rfi.spreadsheet import checks, read
    from rfi.spreadsheet.cells import CellError, parse_date, parse_money
    from rfi.spreadsheet.errors import FileRefused, RowError
    from tenders import services
    from tenders.excel.importer import (
        MAX_IMPORT_ROWS,
        Cell,
        Lookups,
        UnreadableFile,
        _text,
        check_file,
    )
    from tenders.excel.layout import normalise as _normal
    from tenders.models import SavingsMethod

    result = SavingsImportResult()
    errors = result.errors
    try:
        # The plan import's checks (size, type, zip bomb, XML entities, binary "CSV").
        if check_file(file_bytes, filename) == checks.CSV:
            rows, separator = read.csv_rows(file_bytes)
            decimal_comma = {";": True, ",": False}.get(separator)
        else:
            sheets = read.xlsx_sheets(file_bytes)
            rows, decimal_comma = (sheets[0] if sheets else []), None
    except UnreadableFile as exc:
        errors.append(RowError(0, "", filename, str(exc)))
        return result
    except FileRefused as exc:
        errors.append(RowError(0, "", filename, str(exc.message)))
        return result
    if not rows:
        errors.append(RowError(0, "", filename, _("The file is empty.")))
        return result
    columns, english = _import_headers(rows[0], errors)
    if decimal_comma is None:
        decimal_comma = not english
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

    lookups = Lookups()
    tenders = {t.reference.upper(): t for t in TenderCase.objects.select_related("category")}
    methods: dict[str, SavingsMethod] = {}
    for method in SavingsMethod.objects.all():
        for spelling in (method.label_da, method.label_en, method.code):
            if spelling:
                methods.setdefault(_normal(spelling), method)

    def parse(key: str, raw):
        if key == "tender":
            tender = tenders.get(_text(raw).upper())
            if tender is None:
                raise CellError(_("Unknown tender case."))
            return tender
        if key == "region":
            return lookups.region(raw)
        if key == "category":
            return lookups.category(raw)
        if key == "kind":
            return lookups.word("kind", raw)
        if key in ("baseline_annual_cost", "new_annual_cost"):
            return parse_money(raw, decimal_comma=decimal_comma)
        if key == "method":
            method = methods.get(_normal(_text(raw)))
            if method is None:
                raise CellError(_("Unknown calculation method."))
            return method
        return parse_date(raw)

    plans: list[tuple[int, dict]] = []
    seen: dict[tuple, int] = {}
    for number, values in data_rows:
        before = len(errors)
        fields: dict = {}
        for key, (index, header) in columns.items():
            raw = values[index] if index < len(values) else None
            if Cell(number, header, raw).empty:
                fields[key] = None
                continue
            try:
                fields[key] = parse(key, raw)
            except CellError as exc:
                errors.append(RowError(number, header, Cell(number, header, raw).shown, str(exc)))

        def missing(key: str, reason: str, number: int = number) -> None:
            header = columns[key][1] if key in columns else key
            errors.append(RowError(number, header, "", reason))

        for key in IMPORT_REQUIRED:
            if key in fields and fields[key] is None:
                missing(key, _("Required."))
        tender = fields.get("tender")
        is_regional = "tender" not in columns or ("tender" in fields and tender is None)
        if is_regional:
            for key in ("category", "kind", "contract_start"):
                # Empty (None) or no such column; a cell that failed to parse is not in fields.
                if key not in columns or (key in fields and fields[key] is None):
                    missing(key, _("Required for a region's own contract (no tender)."))
        elif tender is not None:
            if fields.get("category") and fields["category"].pk != tender.category_id:
                missing("category", _("A joint case's category is the case's own."))
            if fields.get("kind") and fields["kind"] != tender.kind:
                missing("kind", _("A joint case's kind is the case's own."))
        if len(errors) > before:
            continue
        region = fields["region"]
        if is_regional:
            identity = ("regional", region.pk, fields["category"].pk, fields["kind"])
            identity += (fields["contract_start"],)
        else:
            identity = ("joint", tender.pk, region.pk)
        if identity in seen:
            errors.append(
                RowError(
                    number,
                    columns["region"][1],
                    region.code,
                    _("The same saving is also on row %(row)d.") % {"row": seen[identity]},
                )
            )
            continue
        seen[identity] = number
        plans.append((number, fields))
    if errors:
        return result

    with transaction.atomic():
        for number, fields in plans:
            common = {
                "actor": actor,
                "region": fields["region"],
                "baseline_annual_cost": fields["baseline_annual_cost"],
                "new_annual_cost": fields["new_annual_cost"],
                "method": fields["method"],
                "contract_start": fields.get("contract_start"),
                "contract_end": fields.get("contract_end"),
            }
            tender = fields.get("tender")
            if tender is not None:
                existed = SavingsRecord.objects.filter(
                    tender=tender, region=common["region"], stage=SavingsRecord.Stage.AWARDED
                ).exists()
            else:
                existed = SavingsRecord.objects.filter(
                    tender__isnull=True,
                    region=common["region"],
                    category=fields["category"],
                    kind=fields["kind"],
                    contract_start=fields["contract_start"],
                    stage=SavingsRecord.Stage.AWARDED,
                ).exists()
            try:
                with transaction.atomic():
                    if tender is not None:
                        services.savings_record(tender=tender, **common)
                    else:
                        services.savings_record_regional(
                            category=fields["category"], kind=fields["kind"], **common
                        )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    header = columns.get(field, (0, field if field != "__all__" else ""))[1]
                    for message in messages:
                        errors.append(RowError(number, header, "", message))
                continue
            except PermissionDenied as exc:
                errors.append(
                    RowError(number, columns["region"][1], fields["region"].code, str(exc))
                )
                continue
            if existed:
                result.updated += 1
            else:
                result.created += 1
        if errors:
            transaction.set_rollback(True)
            result.created = result.updated = 0
    return result
