"""Excel in and out: the filtered .xlsx export, the status report export, the import."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from rfi.models import Category, PartnerBody
from rfi.services import CPV_FILE
from tenders import excel, services
from tenders.models import OptOutReason, Participation, TenderCase
from tenders.reference import plan_reference_load
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JUSTIFICATION = "Regionen har en gældende kontrakt på området til og med udgangen af 2027."
DANISH_HEADERS = [
    "Reference",
    "Titel",
    "Beskrivelse",
    "CPV-kode",
    "Område",
    "Aftaletype",
    "Optioner",
    "Tovholder (region)",
    "Tovholder (partner)",
    "Status",
    "Forventet udbudsstart",
    "Offentliggørelse",
    "Tildeling",
    "Kontraktstart",
    "Kontraktudløb",
    "Forlængelse til",
    "Beslutningsfrist",
    "Anslået årlig kontraktsum",
    "Må offentliggøres",
    "Interne noter",
]
INJECTIONS = {
    "title": "=1+2",
    "description": "+SUM(A1:A9)",
    "internal_notes": "@cmd|' /C calc'!A0",
}


def cpv(code: str) -> Category:
    """A category with its real check digit and labels, from the CPV file."""
    with CPV_FILE.open(encoding="utf-8", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["code"] == code)
    category, _ = Category.objects.get_or_create(
        code=code,
        defaults={
            "check_digit": row["check_digit"],
            "label_en": row["label_en"],
            "label_da": row["label_da"],
            "level": 1 + len(code[2:].rstrip("0")),
        },
    )
    return category


@pytest.fixture
def plan(regions, secretariat) -> dict[str, TenderCase]:
    return build_plan(regions, secretariat)


def build_plan(regions, secretariat) -> dict[str, TenderCase]:
    """Three cases: one in contract with every kind of decision, one planned, one Amgros-led."""
    plan_reference_load()
    cpv("33141320")  # for the new rows the tests add
    reasons = {r.code: r for r in OptOutReason.objects.all()}
    in_contract = services.tender_create(
        actor=secretariat,
        reference="FUP-2024-001",
        title="Katetre",
        description="Katetre til alle hospitaler.\nAnden linje.",
        category=cpv("33141200"),
        area=TenderCase.Area.GOODS_SERVICES,
        kind=TenderCase.Kind.FRAMEWORK,
        has_options=True,
        lead_region=regions["RM"],
        status=TenderCase.Status.IN_CONTRACT,
        expected_tender_start=dt.date(2024, 1, 15),
        publication_date=dt.date(2024, 3, 1),
        award_date=dt.date(2024, 6, 3),
        contract_start=dt.date(2024, 8, 1),
        contract_end=dt.date(2027, 7, 31),
        extension_until=dt.date(2028, 7, 31),
        decision_deadline=dt.date(2023, 12, 1),
        estimated_annual_value=Decimal("12345678.50"),
        internal_notes="Brugergruppe fra alle regioner.",
        is_publishable=True,
    )
    grid = {p.region.code: p for p in in_contract.participations.all()}
    decide = services.participation_decide
    decide(participation=grid["RM"], actor=secretariat, status="full")
    decide(
        participation=grid["RH"],
        actor=secretariat,
        status="full",
        estimated_annual_value=Decimal("4000000"),
    )
    decide(
        participation=grid["RSD"],
        actor=secretariat,
        status="option",
        option_expected_join=dt.date(2025, 2, 1),
    )
    services.participation_exercise_option(
        participation=grid["RSD"], actor=secretariat, exercised_on=dt.date(2025, 2, 10)
    )
    decide(
        participation=grid["RSJ"],
        actor=secretariat,
        status="opted_out",
        reason=reasons["existing-contract"],
        justification=JUSTIFICATION,
        existing_contract_end=dt.date(2027, 12, 31),
    )
    decide(
        participation=grid["RN"],
        actor=secretariat,
        status="opted_out",
        reason=reasons["clinical-needs"],
        justification="Regionens klinikere har valgt et andet kateterkoncept til børneområdet.",
    )
    planned = services.tender_create(
        actor=secretariat,
        reference="FUP-2026-002",
        category=cpv("30192000"),
        area=TenderCase.Area.GOODS_SERVICES,
        kind=TenderCase.Kind.FRAMEWORK,
        has_options=False,
        lead_region=regions["RH"],
        expected_tender_start=dt.date(2026, 9, 1),
        decision_deadline=dt.date(2026, 6, 1),
        estimated_annual_value=Decimal("2500000"),
        **INJECTIONS,
    )
    services.participation_decide(
        participation=planned.participations.get(region__code="RH"),
        actor=secretariat,
        status="full",
    )
    amgros = services.tender_create(
        actor=secretariat,
        reference="FUP-2025-003",
        title="Infusionssæt – pilotudbud med Amgros",
        description="-2+3 er ikke en formel her.",
        category=cpv("33115000"),
        area=TenderCase.Area.MEDICO_ACQUISITIONS,
        kind=TenderCase.Kind.ONE_OFF,
        lead_partner=PartnerBody.objects.get(code="AMGROS"),
        status=TenderCase.Status.IN_TENDER,
        expected_tender_start=dt.date(2025, 9, 1),
        publication_date=dt.date(2025, 10, 1),
    )
    return {"in_contract": in_contract, "planned": planned, "amgros": amgros}


def snapshot() -> dict:
    """Everything the file carries, per case, comparable across databases."""
    cases = {}
    for tender in TenderCase.objects.select_related("category", "lead_region", "lead_partner"):
        fields = {}
        for name in services.TENDER_FIELDS:
            value = getattr(tender, name)
            if name == "category":
                value = value.full_code
            elif name in ("lead_region", "lead_partner"):
                value = value.code if value else None
            fields[name] = value
        fields["participation"] = {
            p.region.code: (
                p.status,
                p.opt_out_reason.code if p.opt_out_reason else None,
                p.justification,
                p.existing_contract_end,
                p.option_expected_join,
                p.option_exercised_on,
                p.estimated_annual_value,
            )
            for p in tender.participations.select_related("region", "opt_out_reason")
        }
        cases[tender.reference] = fields
    return cases


def history_counts() -> tuple[int, int]:
    return TenderCase.history.count(), Participation.history.count()


def workbook(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def headers(ws) -> list[str]:
    return [cell.value for cell in ws[1]]


def row_of(ws, reference: str) -> dict:
    names = headers(ws)
    for row in ws.iter_rows(min_row=2):
        if row[0].value == reference:
            return dict(zip(names, row, strict=True))
    raise AssertionError(f"{reference} is not in the sheet")


def export_as(user, query: str = "", language: str | None = None) -> bytes:
    client = client_for(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("tenders:export") + query)
    assert response.status_code == 200
    return response.content


def rewrite(content: bytes, edits: dict[tuple[str, str], object], new_rows=()) -> bytes:
    """The exported workbook with some cells changed: (reference, header) → value."""
    wb = workbook(content)
    ws = wb.active
    for (reference, header), value in edits.items():
        row_of(ws, reference)[header].value = value
    names = headers(ws)
    for new in new_rows:
        ws.append([new.get(name) for name in names])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# Export ---------------------------------------------------------------------------------


def test_export_is_an_xlsx_attachment_named_by_date(plan, officer_rm):
    response = client_for(officer_rm).get(reverse("tenders:export"))

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="fup-udbudsplan-{today}.xlsx"'
    )


def test_export_has_danish_headers_frozen_row_filter_and_formats(plan, officer_rm):
    ws = workbook(export_as(officer_rm)).active

    names = headers(ws)
    assert names[:20] == DANISH_HEADERS
    for code in ("RH", "RSJ", "RSD", "RM", "RN"):
        assert f"Deltagelse {code}" in names
        assert f"Begrundelse {code}" in names
        assert f"Fravalgsårsag {code}" in names
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(names))}4"
    assert ws.column_dimensions["B"].width >= 30
    assert all(cell.font.bold for cell in ws[1])

    row = row_of(ws, "FUP-2024-001")
    money = row["Anslået årlig kontraktsum"]
    assert money.value == pytest.approx(12345678.5)
    assert money.number_format == "#,##0"
    assert row["Årlig værdi RH"].value == 4000000
    assert row["Årlig værdi RH"].number_format == "#,##0"
    award = row["Tildeling"]
    assert award.is_date
    assert award.value.date() == dt.date(2024, 6, 3)
    assert award.number_format == "dd-mm-yyyy"
    assert row["Option udnyttet RSD"].value.date() == dt.date(2025, 2, 10)
    assert row["CPV-kode"].value == "33141200-2"
    assert row["Status"].value == "I kontraktperiode"
    assert row["Optioner"].value == "ja"
    assert row["Tovholder (region)"].value == "RM"
    participation = {code: row[f"Deltagelse {code}"].value for code in ("RH", "RM", "RSD", "RSJ")}
    assert participation == {"RH": "Fuld", "RM": "Fuld", "RSD": "Option", "RSJ": "Fravalgt"}
    assert row["Fravalgsårsag RSJ"].value == "existing-contract"
    assert row["Begrundelse RSJ"].value == JUSTIFICATION
    assert row_of(ws, "FUP-2026-002")["Deltagelse RN"].value == "Afventer"
    assert row_of(ws, "FUP-2025-003")["Tovholder (partner)"].value == "AMGROS"


def test_export_in_english_when_the_language_is_english(plan, officer_rm):
    ws = workbook(export_as(officer_rm, language="en")).active

    assert headers(ws)[:4] == ["Reference", "Title", "Description", "CPV code"]
    assert "Participation RSJ" in headers(ws)
    row = row_of(ws, "FUP-2024-001")
    assert row["Status"].value == "In contract period"
    assert row["Participation RSJ"].value == "Opted out"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=planned", {"FUP-2026-002"}),
        ("?area=medico_acquisitions", {"FUP-2025-003"}),
        ("?participating_region=RSD", {"FUP-2024-001"}),
        ("?q=katetre", {"FUP-2024-001"}),
        ("?lead_region=RH&page=2", {"FUP-2026-002"}),
        ("", {"FUP-2024-001", "FUP-2026-002", "FUP-2025-003"}),
    ],
)
def test_export_holds_exactly_what_the_overview_filter_shows(plan, officer_rm, query, expected):
    ws = workbook(export_as(officer_rm, query)).active

    references = {row[0].value for row in ws.iter_rows(min_row=2)}
    assert references == expected


def test_text_that_looks_like_a_formula_is_exported_as_text(plan, officer_rm):
    ws = workbook(export_as(officer_rm)).active

    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    row = row_of(ws, "FUP-2026-002")
    for header, value in (
        ("Titel", INJECTIONS["title"]),
        ("Beskrivelse", INJECTIONS["description"]),
        ("Interne noter", INJECTIONS["internal_notes"]),
    ):
        assert row[header].value == value
        assert row[header].data_type == "s"
        assert row[header].quotePrefix
    assert row_of(ws, "FUP-2025-003")["Beskrivelse"].value == "-2+3 er ikke en formel her."


def test_status_report_export_has_the_report_and_the_plan(plan, chief):
    response = client_for(chief).get(reverse("tenders:status_report_export"))

    assert response.status_code == 200
    assert "fup-statusrapport-" in response["Content-Disposition"]
    wb = workbook(response.content)
    assert len(wb.worksheets) == 2
    report = [[c.value for c in row] for row in wb.worksheets[0].iter_rows()]
    counts = {(r[0], r[1]): r[2] for r in report[1:5]}
    # Joint tenders only (issue 13 §6): the planned case has only its lead (RH) and the
    # Amgros case no region yet, so only the case in contract period (RM, RH, RSD) counts.
    assert sum(counts.values()) == 1
    assert list(counts.values()) == [0, 0, 1, 0]  # planned+current goods, medico; contract goods
    assert report[3][3] == 12345678.5
    assert wb.worksheets[0]["D2"].number_format == "#,##0"
    plan_sheet = wb.worksheets[1]
    assert headers(plan_sheet)[:20] == DANISH_HEADERS
    assert plan_sheet.max_row == 4


# Import: round trip -------------------------------------------------------------------------


def test_export_then_import_changes_nothing(plan, secretariat):
    content = export_as(secretariat)
    before, history = snapshot(), history_counts()

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert snapshot() == before
    assert history_counts() == history


def test_export_then_import_into_an_empty_plan_reproduces_it(plan, secretariat):
    content = export_as(secretariat)
    before = snapshot()
    TenderCase.objects.all().delete()

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    assert result.errors == []
    assert result.created == 3
    assert snapshot() == before


def test_english_headers_are_accepted(plan, secretariat):
    content = export_as(secretariat, language="en")
    before = snapshot()
    TenderCase.objects.all().delete()

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    assert result.errors == []
    assert snapshot() == before


def test_the_status_report_workbook_imports_from_its_plan_sheet(plan, secretariat):
    content = client_for(secretariat).get(reverse("tenders:status_report_export")).content

    result = excel.plan_import(content, "status.xlsx", secretariat)

    assert result.errors == []
    assert result.unchanged == 3


def test_import_updates_known_references_and_creates_rows_without_one(plan, secretariat):
    content = rewrite(
        export_as(secretariat),
        {
            ("FUP-2026-002", "Titel"): "Kontorartikler og papir",
            ("FUP-2026-002", "Deltagelse RSD"): "Fravalgt",
            ("FUP-2026-002", "Fravalgsårsag RSD"): "volume-too-small",
            ("FUP-2026-002", "Begrundelse RSD"): "Regionens forbrug er under 100.000 kr. om året.",
        },
        new_rows=[
            {
                "Titel": "Kanyler",
                "CPV-kode": "33141320",
                "Område": "Varer og tjenesteydelser",
                "Aftaletype": "Rammeaftale",
                "Optioner": "ja",
                "Tovholder (region)": "RSD",
                "Status": "Kommende",
                "Forventet udbudsstart": dt.date(2027, 2, 1),
                "Deltagelse RSD": "Fuld",
            }
        ],
    )

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (1, 1, 2)
    planned = TenderCase.objects.get(reference="FUP-2026-002")
    assert planned.title == "Kontorartikler og papir"
    opt_out = planned.participations.get(region__code="RSD")
    assert opt_out.status == "opted_out"
    assert opt_out.opt_out_reason.code == "volume-too-small"
    assert opt_out.decided_by == secretariat
    new = TenderCase.objects.get(title="Kanyler")
    assert new.reference.startswith("FUP-")
    assert new.lead_region.code == "RSD"
    assert new.participations.get(region__code="RSD").status == "full"
    assert new.participations.filter(status="pending").count() == 4


def test_a_reference_in_the_file_is_kept_and_never_taken_by_a_new_row(regions, secretariat):
    plan_reference_load()
    cpv("30192000")
    year = timezone.localdate().year
    text = (
        "Reference;Titel;CPV-kode;Område;Aftaletype;Tovholder (region)\n"
        ";Kontorartikler;30192000-1;Varer og tjenesteydelser;Rammeaftale;RH\n"
        f"FUP-{year}-001;Kopipapir;30192000-1;Varer og tjenesteydelser;Rammeaftale;RM\n"
    )

    result = excel.plan_import(text.encode(), "plan.csv", secretariat)

    assert result.errors == []
    assert TenderCase.objects.get(title="Kopipapir").reference == f"FUP-{year}-001"
    assert TenderCase.objects.get(title="Kontorartikler").reference == f"FUP-{year}-002"


# Import: validation -------------------------------------------------------------------------


def test_one_bad_row_saves_nothing_and_names_its_row_and_column(plan, secretariat):
    content = rewrite(
        export_as(secretariat),
        {
            ("FUP-2026-002", "Titel"): "Kontorartikler og papir",
            ("FUP-2025-003", "CPV-kode"): "99999999",
        },
        new_rows=[
            {
                "Titel": "Kanyler",
                "CPV-kode": "33141320-9",
                "Område": "Varer og tjenesteydelser",
                "Aftaletype": "Rammeaftale",
                "Tovholder (region)": "RSD",
            }
        ],
    )
    before, history = snapshot(), history_counts()
    ws = workbook(content).active
    bad_row = next(row[0].row for row in ws.iter_rows(min_row=2) if row[0].value == "FUP-2025-003")

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (bad_row, "CPV-kode", "99999999")
    ]
    assert result.errors[0].reason
    assert result.created == result.updated == 0
    assert snapshot() == before
    assert history_counts() == history
    assert not TenderCase.objects.filter(title="Kanyler").exists()


def test_every_bad_row_is_reported_before_anything_is_saved(plan, secretariat):
    content = rewrite(
        export_as(secretariat),
        {
            ("FUP-2024-001", "Kontraktudløb"): dt.date(2024, 1, 1),  # before contract start
            ("FUP-2024-001", "Begrundelse RN"): "",  # opted out without a justification
            ("FUP-2026-002", "Tovholder (region)"): "RX",
            ("FUP-2026-002", "Tildeling"): "31-02-2026",
            ("FUP-2025-003", "Status"): "Måske",
            ("FUP-2025-003", "Deltagelse RH"): "Option",  # a one-off purchase has no options
        },
    )
    ws = workbook(content).active
    rows = {row[0].value: row[0].row for row in ws.iter_rows(min_row=2)}
    before = snapshot()

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    found = {(e.row, e.column) for e in result.errors}
    assert (rows["FUP-2026-002"], "Tovholder (region)") in found
    assert (rows["FUP-2026-002"], "Tildeling") in found
    assert (rows["FUP-2025-003"], "Status") in found
    # Rows that parse are checked by the services' rules too, in the same pass.
    assert (rows["FUP-2024-001"], "Kontraktudløb") in found
    assert (rows["FUP-2024-001"], "Begrundelse RN") in found
    assert snapshot() == before


def test_an_option_on_a_case_without_options_is_refused(plan, secretariat):
    content = rewrite(
        export_as(secretariat),
        {
            ("FUP-2025-003", "Deltagelse RH"): "Option",
            ("FUP-2025-003", "Forventet tiltrædelse RH"): dt.date(2026, 1, 1),
        },
    )

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    assert [(e.column, e.value) for e in result.errors] == [("Deltagelse RH", "Option")]


def test_a_decision_cannot_go_back_to_pending(plan, secretariat):
    content = rewrite(export_as(secretariat), {("FUP-2024-001", "Deltagelse RH"): "Afventer"})

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    assert [e.column for e in result.errors] == ["Deltagelse RH"]
    assert (
        TenderCase.objects.get(reference="FUP-2024-001")
        .participations.get(region__code="RH")
        .status
        == "full"
    )


def test_unknown_columns_and_missing_required_columns_are_errors(plan, secretariat):
    content = "Titel;Farve;Deltagelse RX\nKatetre;blå;Fuld\n".encode()

    result = excel.plan_import(content, "plan.csv", secretariat)

    columns = {e.column for e in result.errors}
    assert {"Farve", "Deltagelse RX", "CPV-kode", "Område", "Aftaletype"} <= columns
    assert all(e.row == 1 for e in result.errors)


def test_a_file_that_is_not_a_spreadsheet_is_an_error(plan, secretariat):
    result = excel.plan_import(b"%PDF-1.4 not a plan", "plan.pdf", secretariat)

    assert len(result.errors) == 1
    assert result.created == 0


# Import: CSV --------------------------------------------------------------------------------


def test_csv_with_semicolons_in_windows_1252_keeps_the_danish_letters(regions, secretariat):
    plan_reference_load()
    cpv("60130000")
    text = (
        "Reference;Titel;CPV-kode;Område;Aftaletype;Optioner;Tovholder (region);Status;"
        "Forventet udbudsstart;Anslået årlig kontraktsum;Deltagelse RSJ;Deltagelse RN;"
        "Fravalgsårsag RN;Begrundelse RN\r\n"
        ";Patientbefordring i Region Sjælland;60130000-8;Varer og tjenesteydelser;Rammeaftale;"
        "nej;RSJ;Kommende;01-03-2027;1.234.567,50;Fuld;Fravalgt;Andre kliniske behov;"
        "Nordjylland kører selv med egne vogne på øerne, så behovet er et andet.\r\n"
    )

    result = excel.plan_import(text.encode("cp1252"), "plan.csv", secretariat)

    assert result.errors == []
    tender = TenderCase.objects.get()
    assert tender.title == "Patientbefordring i Region Sjælland"
    assert tender.estimated_annual_value == Decimal("1234567.50")
    assert tender.expected_tender_start == dt.date(2027, 3, 1)
    opt_out = tender.participations.get(region__code="RN")
    assert opt_out.opt_out_reason.code == "clinical-needs"
    assert opt_out.justification.startswith("Nordjylland kører selv")


def test_csv_with_commas_in_utf8_with_bom_and_english_headers(regions, secretariat):
    plan_reference_load()
    cpv("60130000")
    text = (
        "Title,CPV code,Area,Kind,Lead region,Status,Expected tender start,"
        "Estimated annual value,Participation RH\n"
        '"Patient transport, Zealand",60130000,Goods and services,Framework agreement,RSJ,'
        'Planned,2027-03-01,"1,234,567.50",Full\n'
    )

    result = excel.plan_import(text.encode("utf-8-sig"), "plan.csv", secretariat)

    assert result.errors == []
    tender = TenderCase.objects.get()
    assert tender.title == "Patient transport, Zealand"
    assert tender.estimated_annual_value == Decimal("1234567.50")
    assert tender.participations.get(region__code="RH").status == "full"


@pytest.mark.parametrize(
    ("text", "decimal_comma", "amount"),
    [
        ("1.234.567,50", True, "1234567.50"),
        ("1234567,5", True, "1234567.50"),
        ("1.500", True, "1500.00"),
        ("1,234,567.50", False, "1234567.50"),
        ("1,500", False, "1500.00"),
        ("12.5", False, "12.50"),
        ("2.500.000 kr.", True, "2500000.00"),
    ],
)
def test_amounts_in_either_convention(text, decimal_comma, amount):
    assert excel.parse_money(text, decimal_comma=decimal_comma) == Decimal(amount)


@pytest.mark.parametrize("text", ["12,34,5", "1.2.3", "1,23,456.7", "--5", "5-"])
def test_text_that_is_no_amount_is_refused(text):
    with pytest.raises(excel.CellError):
        excel.parse_money(text, decimal_comma=True)


# The upload page ----------------------------------------------------------------------------


def _upload(client, content: bytes, name: str = "plan.xlsx"):
    return client.post(
        reverse("tenders:import"), {"file": SimpleUploadedFile(name, content, content_type=XLSX)}
    )


@pytest.mark.parametrize("persona", ["officer_rm", "ufo_member", "chief"])
def test_only_the_secretariat_imports_through_the_page(plan, persona, request, secretariat):
    content = rewrite(export_as(secretariat), {("FUP-2026-002", "Titel"): "Ændret"})
    client = client_for(request.getfixturevalue(persona))

    assert client.get(reverse("tenders:import")).status_code == 403
    response = _upload(client, content)

    assert response.status_code == 403
    assert TenderCase.objects.get(reference="FUP-2026-002").title == INJECTIONS["title"]


def test_the_upload_form_has_a_labelled_file_input(secretariat):
    response = client_for(secretariat).get(reverse("tenders:import"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_file">' in html
    assert 'type="file" name="file" id="id_file"' in html


def test_a_valid_upload_reports_what_was_created_and_updated(plan, secretariat):
    content = rewrite(
        export_as(secretariat),
        {("FUP-2026-002", "Titel"): "Kontorartikler og papir"},
        new_rows=[
            {
                "Titel": "Kanyler",
                "CPV-kode": "33141320-9",
                "Område": "Varer og tjenesteydelser",
                "Aftaletype": "Rammeaftale",
                "Tovholder (region)": "RSD",
            }
        ],
    )

    with translation.override("da"):
        response = _upload(client_for(secretariat), content)

    assert response.status_code == 200
    assert "1 udbudssag oprettet, 1 opdateret" in response.content.decode()
    assert TenderCase.objects.filter(title="Kanyler").exists()


def test_an_invalid_upload_lists_the_errors_by_row_and_column(plan, secretariat):
    content = rewrite(export_as(secretariat), {("FUP-2025-003", "CPV-kode"): "99999999"})

    response = _upload(client_for(secretariat), content)

    assert response.status_code == 422
    errors = response.context["errors"]
    assert [(e.column, e.value) for e in errors] == [("CPV-kode", "99999999")]
    html = response.content.decode()
    # the errors' table is named by its caption, shown above the table's scrolling box
    assert '<table data-testid="import-errors" aria-labelledby="import-errors-caption">' in html
    assert '<p class="table-caption" id="import-errors-caption">Fejl pr. række og kolonne' in html
    assert "99999999" in html
    assert TenderCase.objects.get(reference="FUP-2025-003").category.code == "33115000"
