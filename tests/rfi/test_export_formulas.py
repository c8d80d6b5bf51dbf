"""No file the application writes holds a formula, whatever the users typed.

Every text field of the data (titles, descriptions, notes, supplier names, region and
category names, reasons …) is set to a formula-looking value; then every export URL and
every command that writes CSV is run. No .xlsx cell may be a formula, a text cell that
starts like one must carry the quote prefix, and no CSV cell may start a formula.

The test fails when an export URL or a CSV-writing command is added without being listed
here: the URL patterns and the commands' sources are scanned for them.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import inspect
import io
import itertools
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command, get_commands
from django.db import IntegrityError, models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from rfi.models import Category
from rfi.spreadsheet.write import FORMULA_STARTS
from spend import matching
from spend import views as spend_views
from spend.models import ImportBatch
from tenders import savings_reports
from tenders.models import SavingsMethod, SavingsRecord, TenderCase
from tests.conftest import client_for
from tests.kpi import dashboard_data
from tests.spend import spend_data
from tests.spend.ledger_files import HEADER, csv_bytes, import_file
from tests.tenders.test_excel import build_plan

pytestmark = pytest.mark.django_db

D = dt.date
POISON = ('=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)")
# Text fields that are codes or keys the application matches on, not text people type.
NOT_TYPED = {
    "account_from",
    "account_to",
    "canonical",
    "category_code",
    "category_prefix",
    "check_digit",
    "code",
    "country",
    "email",
    "fingerprint",
    "history_change_reason",
    "identifier",
    "key",
    "language",
    "period_label",
    "reference",
    "reminder_days",
    "sha256",
    "source_header",
}

# Every URL that answers with a spreadsheet: name → how the test calls it.
EXPORT_URLS = {
    "tenders:export": "plan",
    "tenders:status_report_export": "status report",
    "spend:export": "every spend table",
    "spend:batch_errors": "the error report of a refused ledger file",
    "kpi:export": "the KPI workbook",
    "public:csv": "the public udbud.csv",
    "public:xlsx": "the public udbud.xlsx",
    "tenders:savings_report_export": "the savings reports (kind and area, origin, years, "
    "price reduction per joint tender)",
}
# Every command that writes CSV or .xlsx, with the arguments that make it do so.
EXPORT_COMMANDS = {
    "fup_overview": ["--format", "csv"],
    "kpi_report": ["--year", "2025", "--format", "csv", "--periods", "all"],
    "savings_report": ["--year", "2025", "--format", "csv"],
}
# Commands whose source mentions CSV or workbooks but that write no file from user data.
NOT_EXPORTS = {
    "benchmark_import": "times the ledger import on generated files",
    "benchmark_public": "times the public pages, writes a wrk script",
    "generate_ledger": "synthetic ledger extracts: Danish amounts such as -1.234,50 must "
    "stay as they are for the import to read them back",
    "import_contracts": "reads a file",
    "import_fup": "reads a file",
    "import_ledger": "reads a file",
    "import_savings": "reads a file",
    "load_cpv": "reads the CPV file",
    "seed_demo": "loads demo data",
    "seed_reference": "loads reference data",
}
SPREADSHEET_NAME = re.compile(r"(export|xlsx|csv)$")
NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


def _patterns(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or ''}", str(pattern.pattern)


def test_every_spreadsheet_url_is_listed():
    found = {
        name
        for name, route in _patterns(get_resolver())
        if SPREADSHEET_NAME.search(name) or re.search(r"\.(xlsx|csv)\b", route)
    }

    assert found == set(EXPORT_URLS)


def test_every_command_that_writes_csv_or_xlsx_is_listed():
    ours = {
        name: app
        for name, app in get_commands().items()
        if app.split(".")[0] in {"rfi", "tenders", "suppliers", "spend", "kpi"}
    }
    writing = set()
    for name, app in ours.items():
        source = inspect.getsource(importlib.import_module(f"{app}.management.commands.{name}"))
        if re.search(r"csv|openpyxl|Workbook|xlsx|rfi\.spreadsheet", source):
            writing.add(name)

    assert writing <= set(EXPORT_COMMANDS) | set(NOT_EXPORTS)
    assert set(EXPORT_COMMANDS) <= set(ours)


def _poison_every_text_field() -> int:
    """Set every typed text field of every row to a formula-looking value; the count set."""
    values = itertools.cycle(POISON)
    changed = 0
    for app in ("rfi", "tenders", "suppliers", "spend", "kpi"):
        for model in apps.get_app_config(app).get_models():
            if model.__name__.startswith("Historical"):
                continue
            for field in model._meta.concrete_fields:
                if (
                    not isinstance(field, models.CharField | models.TextField)
                    or field.choices
                    or field.unique
                    or field.name in NOT_TYPED
                ):
                    continue
                if not any(len(v) <= (field.max_length or 10_000) for v in POISON):
                    continue  # a one- or two-letter code, not text people type
                value = next(v for v in values if len(v) <= (field.max_length or 10_000))
                try:
                    with transaction.atomic():
                        changed += model.objects.update(**{field.name: value})
                except IntegrityError:  # a check constraint on the field's shape
                    continue
    return changed


@pytest.fixture
def poisoned(regions, secretariat, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    build_plan(regions, secretariat)
    dashboard_data.build()
    spend_data.tree()
    rm = regions["RM"]
    spend_data.contract(rm, "11111111", D(2025, 1, 1), D(2025, 12, 31), code="33140000")
    batch = spend_data.batch(rm)
    spend_data.lines(
        batch,
        {"category_code": "33141110", "amount": 1000, "invoice_no": "F1", "account": "4000"},
        {"category_code": "", "amount": 500, "supplier_id": "22222222", "invoice_no": "F3"},
        {"category_code": "85100000", "amount": 20000, "supplier_id": "33333333"},
        {"category_code": "30190000", "amount": 2000, "account": "4000"},
    )
    matching.after_lines_loaded(batch)
    good = ["05-02-2025", "1", "F1", "12345678", "Ærø A/S", "22110", "4100", "100,00", "x"]
    good += [""] * (len(HEADER) - len(good))
    bad = [list(good) for _ in POISON]
    for row, value in zip(bad, POISON, strict=True):
        row[7] = value  # the amount column: echoed in the report
    refused = import_file(rm, csv_bytes(bad), "=fil.csv")
    assert refused.status == ImportBatch.Status.FAILED and refused.errors_file
    # A refusal of the whole file, stored before its report was a file.
    whole = ImportBatch.objects.create(
        region=rm,
        file_name="x.csv",
        sha256="0" * 64,
        size=1,
        status=ImportBatch.Status.FAILED,
        errors=[{"row": None, "column": POISON[1], "value": POISON[0], "reason": POISON[2]}],
    )
    # An awarded saving on a joint case and one on a region's own contract: the savings
    # reports name the case, the area and the category.
    method = SavingsMethod.objects.create(code="poison", label_da="x")
    joint = TenderCase.objects.exclude(kind="").first()
    for tender, category in ((joint, None), (None, Category.objects.get(code="33140000"))):
        SavingsRecord.objects.create(
            tender=tender,
            region=rm,
            category=category,
            kind="" if tender else TenderCase.Kind.FRAMEWORK,
            stage=SavingsRecord.Stage.AWARDED,
            baseline_annual_cost=1000,
            new_annual_cost=800,
            method=method,
            contract_start=D(2025, 1, 1),
            contract_end=D(2026, 12, 31),
        )
    assert _poison_every_text_field() > 0
    return {"batches": [refused, whole]}


def _xlsx_problems(content: bytes) -> tuple[list[str], int]:
    problems, guarded = [], 0
    workbook = load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    problems.append(f"{sheet.title}!{cell.coordinate} is a formula: {cell.value}")
                elif isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    if cell.quotePrefix:
                        guarded += 1
                    else:
                        problems.append(f"{sheet.title}!{cell.coordinate}: {cell.value!r}")
    return problems, guarded


def _csv_problems(text: str) -> tuple[list[str], int]:
    text = text.lstrip("\ufeff")
    delimiter = ";" if text.split("\n", 1)[0].count(";") else ","
    problems, guarded = [], 0
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        for value in row:
            if value.startswith(FORMULA_STARTS) and not NUMBER.match(value):
                problems.append(f"row {number}: {value!r}")
            if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
                guarded += 1
    return problems, guarded


def _downloads(poisoned, secretariat, chief) -> dict[str, bytes]:
    staff = client_for(secretariat)
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    public = Client()
    files = {
        "tenders:export": staff.get(reverse("tenders:export")),
        "tenders:status_report_export": staff.get(reverse("tenders:status_report_export")),
        "kpi:export": client_for(chief).get(reverse("kpi:export"), {"year": 2025}),
        "public:csv": public.get(reverse("public:csv")),
        "public:xlsx": public.get(reverse("public:xlsx")),
    }
    for table in spend_views.TABLES:
        url = reverse("spend:export", args=[table])
        files[f"spend:export {table}"] = staff.get(url, {"region": "RM", "year": 2025})
    for slug in savings_reports.REPORTS:
        url = reverse("tenders:savings_report_export", args=[slug])
        files[f"tenders:savings_report_export {slug}"] = staff.get(url, {"year": 2025})
    for batch in poisoned["batches"]:
        url = reverse("spend:batch_errors", args=[batch.pk])
        files[f"spend:batch_errors {batch.pk}"] = staff.get(url)
    contents = {}
    for name, response in files.items():
        assert response.status_code == 200, name
        body = b"".join(response.streaming_content) if response.streaming else response.content
        contents[name] = body
    return contents


def test_no_export_holds_a_formula(poisoned, secretariat, chief):
    contents = _downloads(poisoned, secretariat, chief)
    assert {name.split(" ")[0] for name in contents} == set(EXPORT_URLS)

    problems, guarded = {}, {}
    for name, body in contents.items():
        if body.startswith(b"PK"):
            problems[name], guarded[name] = _xlsx_problems(body)
        else:
            problems[name], guarded[name] = _csv_problems(body.decode("utf-8"))

    assert {name: found for name, found in problems.items() if found} == {}
    # The poison reached every file (the test would pass vacuously otherwise), except the
    # savings reports: their cells are fixed labels and figures, and a case's title
    # follows its reference ("FUP-2026-002 -2+3"), so no typed text starts a cell.
    assert [
        name
        for name, count in guarded.items()
        if count == 0 and not name.startswith("tenders:savings_report_export")
    ] == []


@pytest.mark.parametrize("command", sorted(EXPORT_COMMANDS))
def test_no_command_output_holds_a_formula(poisoned, command):
    out = io.StringIO()
    call_command(command, *EXPORT_COMMANDS[command], stdout=out)

    problems, _guarded = _csv_problems(out.getvalue())

    assert out.getvalue().count("\n") > 1
    assert problems == []
