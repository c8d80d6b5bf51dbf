"""import_savings: Danish CSV in Windows-1252, English xlsx, and all-or-nothing errors."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from tenders.models import SavingsMethod, SavingsRecord, TenderCase
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

D = dt.date

DANISH = (
    "Udbud;Region;CPV-kode;Aftaletype;Årlig udgift før;Ny årlig udgift;Beregningsmetode;"
    "Kontraktstart;Kontraktudløb\n"
    "FUP-2025-001;RM;;;1.200.000,00;1.000.000,50;Prissammenligning før/efter;;\n"
    ";RSD;33000000-0;Engangskøb;250.000;200.000;Prissammenligning før/efter;"
    "01-03-2026;28-02-2027\n"
)

ENGLISH = [
    [
        "Tender",
        "Region",
        "Category",
        "Kind",
        "Baseline annual cost",
        "New annual cost",
        "Method",
        "Contract start",
        "Contract end",
    ],
    ["FUP-2025-001", "RSD", None, None, 800000.0, 700000.0, "price", None, None],
    [None, "RN", "33000000", "framework", 1500.5, 1000, "price", D(2026, 1, 1), None],
]


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def awarded(regions, category_33):
    SavingsMethod.objects.create(
        code="price", label_da="Prissammenligning før/efter", label_en="Price comparison"
    )
    return TenderCase.objects.create(
        reference="FUP-2025-001",
        title="Katetre",
        category=category_33,
        area=TenderCase.Area.MEDICO_ACQUISITIONS,
        kind=TenderCase.Kind.FRAMEWORK,
        lead_region=regions["RM"],
        status=TenderCase.Status.IN_CONTRACT,
        award_date=D(2025, 10, 1),
        contract_start=D(2026, 1, 1),
        contract_end=D(2029, 12, 31),
    )


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def xlsx(rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_savings", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def saved() -> list[tuple]:
    return sorted(
        (
            r.tender.reference if r.tender else "",
            r.region.code,
            r.category.code if r.category else "",
            r.kind,
            r.baseline_annual_cost,
            r.new_annual_cost,
            r.method.code,
            r.contract_start,
            r.contract_end,
            r.stage,
        )
        for r in SavingsRecord.objects.select_related("tender", "region", "category", "method")
    )


def test_a_danish_csv_in_windows_1252_is_imported(awarded, superuser, tmp_path):
    path = write(tmp_path, "besparelser.csv", DANISH.encode("cp1252"))

    out, err = run(str(path))

    assert "2 savings records created, 0 updated" in out
    assert err == ""
    assert saved() == [
        # A region's own contract: its category, kind and dates as written.
        ("", "RSD", "33000000", "one_off", Decimal("250000.00"), Decimal("200000.00"),
         "price", D(2026, 3, 1), D(2027, 2, 28), "awarded"),
        # A joint case's record takes the case's contract period.
        ("FUP-2025-001", "RM", "", "", Decimal("1200000.00"), Decimal("1000000.50"),
         "price", D(2026, 1, 1), D(2029, 12, 31), "awarded"),
    ]  # fmt: skip
    record = SavingsRecord.objects.get(region__code="RSD")
    assert record.recorded_by == superuser
    assert record.history.latest("history_date").history_user == superuser


def test_an_english_xlsx_is_imported_and_a_second_run_corrects_instead_of_adding(
    awarded, superuser, tmp_path
):
    path = write(tmp_path, "savings.xlsx", xlsx(ENGLISH))

    out, _err = run(str(path))

    assert "2 savings records created, 0 updated" in out
    assert saved() == [
        ("", "RN", "33000000", "framework", Decimal("1500.50"), Decimal("1000.00"),
         "price", D(2026, 1, 1), None, "awarded"),
        ("FUP-2025-001", "RSD", "", "", Decimal("800000.00"), Decimal("700000.00"),
         "price", D(2026, 1, 1), D(2029, 12, 31), "awarded"),
    ]  # fmt: skip

    rows = [list(row) for row in ENGLISH]
    rows[2][5] = 900
    out, _err = run(str(write(tmp_path, "savings.xlsx", xlsx(rows))))

    assert "0 savings records created, 2 updated" in out
    assert SavingsRecord.objects.count() == 2
    assert SavingsRecord.objects.get(region__code="RN").new_annual_cost == Decimal("900.00")


def test_every_error_is_printed_with_row_column_and_reason_and_nothing_is_saved(
    awarded, superuser, tmp_path
):
    text = (
        "Udbud;Region;CPV-kode;Aftaletype;Årlig udgift før;Ny årlig udgift;Beregningsmetode;"
        "Kontraktstart;Kontraktudløb\n"
        # A valid row: still not saved, as other rows are wrong.
        "FUP-2025-001;RM;;;1.000;900;price;;\n"
        # An unknown case and a date that does not exist.
        "FUP-1999-999;RM;;;1.000;900;price;31-02-2026;\n"
        # A region's own contract without category and kind.
        ";RN;;;1.000;900;price;01-01-2026;\n"
        # Unknown region, amount not a number, unknown method.
        ";XX;33000000-0;Rammeaftale;mange;900;gæt;01-01-2026;\n"
    )
    path = write(tmp_path, "besparelser.csv", text.encode("cp1252"))
    err = io.StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("import_savings", str(path), stdout=io.StringIO(), stderr=err)

    lines = err.getvalue().strip().splitlines()
    assert all(re.match(r"row \d+, column “[^”]*”, value “[^”]*”: .+", line) for line in lines)
    found = {
        (int(match[1]), match[2])
        for match in (re.match(r"row (\d+), column “([^”]*)”", line) for line in lines)
    }
    assert found == {
        (3, "Udbud"),
        (3, "Kontraktstart"),
        (4, "CPV-kode"),
        (4, "Aftaletype"),
        (5, "Region"),
        (5, "Årlig udgift før"),
        (5, "Beregningsmetode"),
    }
    assert failure.value.returncode == 1
    assert "nothing was saved" in str(failure.value)
    assert SavingsRecord.objects.count() == 0


def test_a_rule_of_the_service_is_reported_on_its_row_and_rolls_back_every_row(
    awarded, superuser, tmp_path
):
    text = (
        "Tender,Region,Category,Kind,Baseline annual cost,New annual cost,Method,"
        "Contract start,Contract end\n"
        "FUP-2025-001,RM,,,1000,900,price,,\n"
        ",RH,33000000-0,framework,1000,900,price,2026-06-01,2026-01-01\n"
    )
    path = write(tmp_path, "savings.csv", text.encode("utf-8"))
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_savings", str(path), stdout=io.StringIO(), stderr=err)

    assert err.getvalue().startswith("row 3, column “Contract end”")
    assert SavingsRecord.objects.count() == 0


def test_an_officer_imports_only_their_own_regions_savings(awarded, officer_rm, tmp_path):
    path = write(tmp_path, "besparelser.csv", DANISH.encode("cp1252"))
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command(
            "import_savings", str(path), "--user", "officer_rm", stdout=io.StringIO(), stderr=err
        )

    assert err.getvalue().startswith("row 3, column “Region”, value “RSD”")
    assert SavingsRecord.objects.count() == 0


def test_unknown_and_missing_columns_are_errors_of_row_1(awarded, superuser, tmp_path):
    path = write(tmp_path, "x.csv", "Region;Farve\nRM;blå\n".encode("cp1252"))
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_savings", str(path), stdout=io.StringIO(), stderr=err)

    lines = err.getvalue().strip().splitlines()
    assert lines[0].startswith("row 1, column “Farve”, value “Farve”: ")
    missing = [line.split("”")[0] for line in lines[1:]]
    assert missing == [
        "row 1, column “Årlig udgift før / Baseline annual cost",
        "row 1, column “Ny årlig udgift / New annual cost",
        "row 1, column “Beregningsmetode / Method",
    ]
