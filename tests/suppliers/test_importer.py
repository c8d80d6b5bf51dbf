"""Importing contracts: Danish files in both encodings, xlsx, and all or nothing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook

from suppliers.importer import contracts_import
from suppliers.models import Contract, Supplier

pytestmark = pytest.mark.django_db

DANISH_HEADER = (
    "Region;Leverandør_id;Leverandørnavn;Titel;Kategori;Startdato;Slutdato;Årlig_værdi;Type;"
    "Udbudsreference"
)
DANISH_ROWS = (
    "RM;28746153;Sønderjysk Medico ApS;Katetre til urologi;33141200-2;01-02-2025;31.01.2028;"
    "1.250.000,50;rammeaftale;FUP-2024-001",
    "RM;31457826;Ærø Kirurgi A/S;Sårpleje på øreafdelingen;33141000;2025-03-01;28-02-2027;"
    "87500;engangskøb;",
)


def _csv(header: str, rows, *, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


@pytest.fixture
def reference(cpv, make_tender):
    make_tender("FUP-2024-001")


def test_a_danish_csv_in_windows_1252_with_danish_headers(secretariat, regions, reference):
    # given
    data = _csv(DANISH_HEADER, DANISH_ROWS, encoding="cp1252")

    # when
    result = contracts_import(data, "kontrakter.csv", secretariat)

    # then
    assert result.ok, result.errors
    assert result.created == 2
    first = Contract.objects.get(title="Katetre til urologi")
    assert first.supplier.name == "Sønderjysk Medico ApS"
    assert first.region.code == "RM"
    assert first.category.code == "33141200"
    assert (first.start_date, first.end_date) == (dt.date(2025, 2, 1), dt.date(2028, 1, 31))
    assert first.annual_value == Decimal("1250000.50")
    assert first.kind == Contract.Kind.FRAMEWORK
    assert first.tender.reference == "FUP-2024-001"
    second = Contract.objects.get(title="Sårpleje på øreafdelingen")
    assert second.supplier.name == "Ærø Kirurgi A/S"
    assert second.kind == Contract.Kind.ONE_OFF
    assert second.tender is None
    assert second.history.get().history_user == secretariat


def test_utf8_with_bom_commas_and_english_headers(secretariat, regions, cpv):
    header = "region,supplier_id,supplier_name,title,category,start_date,end_date,annual_value"
    rows = [
        'RSD,28746153,"Sønderjysk Medico, Kolding",Katetre,33141200,2025-01-01,2026-12-31,1500.75'
    ]

    result = contracts_import(b"\xef\xbb\xbf" + _csv(header, rows), "contracts.csv", secretariat)

    assert result.ok, result.errors
    contract = Contract.objects.get()
    assert contract.supplier.name == "Sønderjysk Medico, Kolding"
    assert contract.annual_value == Decimal("1500.75")


def test_xlsx_with_dates_and_numbers_as_cells(secretariat, regions, cpv):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "region",
            "cvr",
            "leverandørnavn",
            "titel",
            "kategori",
            "startdato",
            "slutdato",
            "årlig værdi",
            "type",
            "forlænget til",
            "registreret efterfølgende",
        ]
    )
    sheet.append(
        [
            "RN",
            28746153,
            "Nordjysk Tolkning ApS",
            "Tolkebistand",
            79540000,
            dt.date(2025, 4, 1),
            dt.date(2027, 3, 31),
            312500.25,
            "framework",
            "31-03-2028",
            "ja",
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = contracts_import(buffer.getvalue(), "kontrakter.xlsx", secretariat)

    assert result.ok, result.errors
    contract = Contract.objects.get()
    assert contract.supplier.identifier == "28746153"
    assert contract.category.code == "79540000"
    assert contract.start_date == dt.date(2025, 4, 1)
    assert contract.annual_value == Decimal("312500.25")
    assert contract.extended_until == dt.date(2028, 3, 31)
    assert contract.registered_after_the_fact


def test_one_bad_row_saves_nothing_and_names_row_and_column(secretariat, regions, reference):
    # given: row 3 ends before it starts, row 4 has a 7-digit CVR and an unknown CPV code
    rows = [
        DANISH_ROWS[0],
        "RM;31457826;Ærø Kirurgi A/S;Sårpleje;33141000;01-03-2025;28-02-2024;87500;;",
        "RM;3145782;Ærø Kirurgi A/S;Plastre;99999999;01-03-2025;28-02-2027;87500;;",
    ]
    Supplier.objects.create(identifier="28746153", name="Det gamle navn")

    # when
    result = contracts_import(_csv(DANISH_HEADER, rows), "kontrakter.csv", secretariat)

    # then
    assert not result.ok
    found = {(e.row, e.column) for e in result.errors}
    assert found == {(3, "Slutdato"), (4, "Leverandør_id"), (4, "Kategori")}
    cvr = next(e for e in result.errors if e.column == "Leverandør_id")
    assert cvr.value == "3145782"
    assert "8" in cvr.reason
    assert not Contract.objects.exists()
    assert Supplier.objects.get().name == "Det gamle navn"


def test_every_error_is_reported_not_just_the_first(secretariat, regions, cpv):
    rows = [
        f"RM;28746153;X ApS;Aftale {n};33141200;31-02-2025;01-01-2026;12,34,5;;" for n in range(40)
    ]

    result = contracts_import(_csv(DANISH_HEADER, rows), "k.csv", secretariat)

    assert len(result.errors) == 80
    assert {e.column for e in result.errors} == {"Startdato", "Årlig_værdi"}


def test_a_missing_column_is_named(secretariat, regions):
    header = "region;leverandør_id;leverandørnavn;titel;startdato;slutdato"

    result = contracts_import(
        _csv(header, ["RM;28746153;X;Y;01-01-2025;01-01-2026"]), "k.csv", secretariat
    )

    assert [(e.row, e.column) for e in result.errors] == [(1, "category")]
    assert "kategori" in result.errors[0].reason


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"", "tom.csv", "empty"),
        (DANISH_HEADER.encode(), "kun-overskrift.csv", "no rows"),
        (b"PK\x03\x04 not really a zip", "brudt.xlsx", "xlsx"),
        (b"\x00\x01\x02binary", "binaer.csv", "CSV"),
        (b"region;titel", "kontrakter.pdf", ".xlsx"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(data, name, words, secretariat, regions):
    with _english():
        result = contracts_import(data, name, secretariat)

    assert not result.ok
    assert words.lower() in result.errors[0].reason.lower()
    assert not Contract.objects.exists()


def test_an_officer_imports_only_their_own_region(officer_rsd, regions, cpv):
    rows = [
        "RSD;28746153;Syd ApS;Egen aftale;33141200;01-01-2025;31-12-2026;;;",
        "RM;31457826;Midt ApS;Anden regions aftale;33141200;01-01-2025;31-12-2026;;;",
    ]

    result = contracts_import(_csv(DANISH_HEADER, rows), "k.csv", officer_rsd)

    assert [(e.row, e.column, e.value) for e in result.errors] == [(3, "Region", "RM")]
    assert not Contract.objects.exists()


def test_the_last_row_names_the_supplier_and_a_new_supplier_needs_a_name(secretariat, regions, cpv):
    rows = [
        "RM;28746153;Gammelt Navn ApS;Aftale 1;33141200;01-01-2025;31-12-2026;;;",
        "RSD;28746153;Nyt Navn ApS;Aftale 2;33141200;01-01-2025;31-12-2026;;;",
        "RN;28746153;;Aftale 3;33141200;01-01-2025;31-12-2026;;;",
    ]

    result = contracts_import(_csv(DANISH_HEADER, rows), "k.csv", secretariat)

    assert result.ok, result.errors
    assert Supplier.objects.get().name == "Nyt Navn ApS"
    assert Contract.objects.filter(supplier__identifier="28746153").count() == 3

    nameless = ["RN;99999999;;Aftale 4;33141200;01-01-2025;31-12-2026;;;"]
    refused = contracts_import(_csv(DANISH_HEADER, nameless), "k.csv", secretariat)
    assert [(e.row, e.column) for e in refused.errors] == [(2, "Leverandørnavn")]


def test_importing_the_same_file_twice_updates_instead_of_duplicating(
    secretariat, regions, reference
):
    data = _csv(DANISH_HEADER, DANISH_ROWS)
    contracts_import(data, "k.csv", secretariat)

    again = contracts_import(data.replace(b"87500", b"90000"), "k.csv", secretariat)

    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert Contract.objects.count() == 2
    assert Contract.objects.get(title="Sårpleje på øreafdelingen").annual_value == Decimal("90000")


def test_the_same_contract_twice_in_one_file_is_an_error(secretariat, regions, reference):
    result = contracts_import(
        _csv(DANISH_HEADER, [DANISH_ROWS[0], DANISH_ROWS[0]]), "k.csv", secretariat
    )

    assert [(e.row, e.column) for e in result.errors] == [(3, "Titel")]
    assert "2" in result.errors[0].reason


# The command -------------------------------------------------------------------------------------


def test_the_command_imports_a_file(tmp_path, officer_rm, regions, reference, capsys):
    path = tmp_path / "kontrakter.csv"
    path.write_bytes(_csv(DANISH_HEADER, DANISH_ROWS, encoding="cp1252"))

    call_command("import_contracts", str(path), "--user", "officer_rm")

    assert Contract.objects.filter(created_by=officer_rm).count() == 2
    assert "2 contracts registered" in capsys.readouterr().out


def test_the_command_refuses_a_file_with_errors_and_lists_them(
    tmp_path, officer_rsd, regions, reference, capsys
):
    path = tmp_path / "kontrakter.csv"
    path.write_bytes(_csv(DANISH_HEADER, DANISH_ROWS))

    with pytest.raises(CommandError, match="nothing was saved"):
        call_command("import_contracts", str(path), "--user", "officer_rsd")

    err = capsys.readouterr().err
    assert "row 2, column Region ('RM')" in err
    assert "row 3, column Region ('RM')" in err
    assert not Contract.objects.exists()


def test_the_command_without_a_user_acts_for_the_secretariat(tmp_path, regions, reference):
    path = tmp_path / "kontrakter.csv"
    path.write_bytes(_csv(DANISH_HEADER, DANISH_ROWS))

    call_command("import_contracts", str(path))

    assert Contract.objects.count() == 2
    assert Contract.objects.first().history.get().history_user is None


def _english():
    return translation.override("en")
