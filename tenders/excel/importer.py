"""Import the plan from .xlsx or .csv, in the layout of layout.py: every row is checked
first, and nothing is saved unless every row is valid.

The file passes rfi.spreadsheet.checks before it is opened; the rows are written through
the public services of tenders.services, each with the importing user as actor.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rfi import permissions
from rfi.models import Category, PartnerBody, Region
from rfi.spreadsheet import checks, read
from rfi.spreadsheet.cells import CellError, parse_date, parse_money
from rfi.spreadsheet.errors import FileRefused, RowError
from tenders import services
from tenders.excel.layout import (
    PARTICIPATION_COLUMNS,
    TENDER_COLUMNS,
    WORDS,
    header_text,
    normalise,
    vocabulary_of,
    word_for,
)
from tenders.models import OptOutReason, Participation, PlanSettings, TenderCase


class UnreadableFile(ValueError):
    """The file is not an .xlsx or .csv the import can read."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


PLAN_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# What a plan workbook may inflate to; a real plan of MAX_IMPORT_ROWS rows is far smaller.
PLAN_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
CSV_SUFFIXES = (".csv", ".txt")


def _plan_sheet(sheets: list[list[list]]) -> list[list]:
    # The plan's sheet is the one with a title column.
    title = next(c for c in TENDER_COLUMNS if c.key == "title")
    headers = {normalise(title.da), normalise(title.en)}
    for rows in sheets:
        # The status report export carries the plan on its second sheet.
        if rows and any(normalise(v) in headers for v in rows[0] if isinstance(v, str)):
            return rows
    return sheets[0] if sheets else []


def check_file(data: bytes, filename: str) -> str:
    """The checks every plan file gets before it is opened (rfi.spreadsheet.checks): a plain
    name, the size limit, contents that match the extension, no zip bomb, no DOCTYPE or
    entities in the workbook's XML, no binary "CSV". Returns the kind (csv or xlsx)."""
    name = checks.check_file_name(filename)
    suffix = Path(name.lower()).suffix
    if suffix in CSV_SUFFIXES:
        kind = checks.CSV
    elif suffix == ".xlsx":
        kind = checks.XLSX
    else:
        raise UnreadableFile(_("Upload an .xlsx or .csv file in the layout of the export."))
    checks.check_size(len(data), PLAN_MAX_UPLOAD_BYTES)
    checks.check_type(data[:8], kind, name)
    if kind == checks.XLSX:
        checks.check_xlsx(data, max_uncompressed=PLAN_MAX_UNCOMPRESSED_BYTES)
    else:
        checks.check_csv_bytes(data)
    return kind


def read_rows(data: bytes, filename: str) -> tuple[list[list], bool | None]:
    """The sheet's rows, and whether amounts written as text use a decimal comma.

    None: the file does not tell (an .xlsx); the language of its headers decides.
    Refuses (FileRefused, UnreadableFile) a file that check_file refuses.
    """
    if check_file(data, filename) == checks.CSV:
        rows, delimiter = read.csv_rows(data)
        return rows, {";": True, ",": False}.get(delimiter)
    return _plan_sheet(read.xlsx_sheets(data)), None


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
                    self.partners.setdefault(normalise(name).upper(), partner)
        self.reasons: dict[str, OptOutReason] = {}
        for reason in OptOutReason.objects.all():
            for spelling in (reason.code, reason.label_da, reason.label_en):
                if spelling:
                    self.reasons.setdefault(normalise(spelling), reason)
        self.vocabularies = {kind: vocabulary_of(kind) for kind in WORDS}
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
        partner = self.partners.get(text.upper()) or self.partners.get(normalise(text).upper())
        if partner is None:
            raise CellError(_("Unknown partner body."))
        return partner

    def reason(self, raw) -> OptOutReason:
        reason = self.reasons.get(normalise(_text(raw)))
        if reason is None:
            raise CellError(_("Unknown opt-out reason."))
        return reason

    def word(self, kind: str, raw):
        if isinstance(raw, bool) and kind == "bool":
            return raw
        value = self.vocabularies[kind].get(normalise(_text(raw)))
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
        return header_text(column, "en" if self.english else "da", region_code)


REQUIRED = ("title", "category", "area", "kind")


def read_layout(header_row: list, lookups: Lookups, errors: list[RowError]) -> Layout:
    layout = Layout(headers=[_text(h) for h in header_row])
    # header → (key, English?); None where both languages spell it the same ("Status").
    tender_headers: dict[str, tuple[str, bool | None]] = {}
    prefixes: dict[str, tuple[str, bool | None]] = {}
    for columns, target in ((TENDER_COLUMNS, tender_headers), (PARTICIPATION_COLUMNS, prefixes)):
        for column in columns:
            same = normalise(column.da) == normalise(column.en)
            target[normalise(column.da)] = (column.key, None if same else False)
            target[normalise(column.en)] = (column.key, None if same else True)
    english_votes = 0
    for index, header in enumerate(layout.headers):
        normal = normalise(header)
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
        return word_for("bool", value, "da")
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
            services.participation_estimate(
                participation=current,
                actor=actor,
                estimated_annual_value=wanted["estimated_annual_value"],
            )
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
            current = services.participation_add(
                tender=tender, region=Region.objects.get(code=code), actor=actor
            )
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
    except FileRefused as exc:
        errors.append(RowError(0, "", filename, str(exc.message)))
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
