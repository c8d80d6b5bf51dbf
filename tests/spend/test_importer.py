"""Ledger extracts the importer reads without being told: encodings, separators, formats."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from decimal import Decimal

import pytest

from rfi.models import Category
from spend.importer.pipeline import ledger_batch_process
from spend.models import ColumnMapping, ImportBatch, LedgerLine
from tests.spend.ledger_files import (
    FEBRUARY,
    HEADER,
    JANUARY,
    JANUARY_TOTAL,
    csv_bytes,
    current_total,
    english,  # noqa: F401 – fixture
    gzip_bytes,
    import_file,
    media,  # noqa: F401 – fixture
    upload,
    xlsx_bytes,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "english")]

NAMES = {"Ærø Hospitalsudstyr A/S", "Søborg Rådgivning ApS", "Fåborg Fødevarer I/S"}


def assert_january(batch: ImportBatch, region) -> None:
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert batch.is_current
    assert batch.rows_loaded == 4
    assert batch.spend_total == JANUARY_TOTAL
    assert current_total(region) == JANUARY_TOTAL
    lines = LedgerLine.objects.filter(batch=batch).order_by("row_number")
    assert set(lines.values_list("supplier_name", flat=True)) == NAMES
    first = lines[0]
    assert first.row_number == 2  # the header is row 1, as in a spreadsheet
    assert first.posting_date == dt.date(2025, 1, 2)
    assert first.amount == Decimal("1234.56")
    assert first.order_channel == LedgerLine.Channel.E_ORDER
    assert first.category_code == "33141000"
    assert first.supplier_id == "12345678"
    assert first.region_id == region.pk


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1252"])
def test_danish_csv_in_both_encodings_with_and_without_bom(regions, encoding):
    # given a Danish export (;, decimal comma, dd-mm-yyyy) in each encoding a region uses
    data = csv_bytes(JANUARY, encoding=encoding)
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    # when it is imported
    batch = import_file(regions["RM"], data)
    # then æ, ø and å survive and every amount is exact
    assert_january(batch, regions["RM"])


@pytest.mark.parametrize("separator", ["\t", ","])
def test_tab_and_comma_separated_files(regions, separator):
    batch = import_file(regions["RM"], csv_bytes(JANUARY, separator=separator), "hovedbog.txt")
    assert_january(batch, regions["RM"])


def test_decimal_point_with_thousands_commas_and_iso_dates(regions):
    header = [
        "posting_date",
        "voucher_no",
        "invoice_no",
        "supplier_id",
        "supplier_name",
        "account",
        "cost_centre",
        "amount",
        "description",
    ]
    rows = [
        ["2025-03-01", "1", "F1", "12345678", "A", "1", "", "1,234,567.5", "x"],
        ["2025-03-02", "2", "F2", "12345678", "A", "1", "", "-0.05", "credit"],
        ["2025-03-31", "3", "F3", "12345678", "A", "1", "", "12", "x"],
    ]
    batch = import_file(regions["RM"], csv_bytes(rows, header=header, separator=","))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert sorted(LedgerLine.objects.values_list("amount", flat=True)) == [
        Decimal("-0.05"),
        Decimal("12.00"),
        Decimal("1234567.50"),
    ]
    # the period is the whole months the lines fall in
    assert (batch.period_start, batch.period_end) == (dt.date(2025, 3, 1), dt.date(2025, 3, 31))


def test_thousands_separators_dates_and_credit_notes_in_danish_notation(regions):
    rows = [
        ["01.04.2025", "1", "F1", "DK 12 34 56 78", "A", "1", "", "1 234,50", "space groups"],
        ["02.04.2025", "2", "F2", "12345678", "A", "1", "", "12.345.678,00", "dot groups"],
        ["20250403", "3", "K3", "12345678", "A", "1", "", "500,00-", "trailing minus (SAP)"],
        ["2025-04-04", "4", "K4", "12345678", "A", "1", "", "-1.000", "credit note"],
        ["2025-04-05", "5", "F5", "12345678", "A", "1", "", "+1.000,25", "plus sign"],
    ]
    batch = import_file(regions["RM"], csv_bytes(rows, header=HEADER[:9]))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    lines = LedgerLine.objects.order_by("row_number")
    assert [line.amount for line in lines] == [
        Decimal("1234.50"),
        Decimal("12345678.00"),
        Decimal("-500.00"),
        Decimal("-1000.00"),
        Decimal("1000.25"),
    ]
    assert [line.posting_date.day for line in lines] == [1, 2, 3, 4, 5]
    assert {line.supplier_id for line in lines} == {"12345678"}
    assert batch.spend_total == Decimal("12346412.75")


def test_gzip_compressed_csv(regions):
    batch = import_file(regions["RM"], gzip_bytes(csv_bytes(JANUARY)), "hovedbog.csv.gz")
    assert_january(batch, regions["RM"])


def test_xlsx_read_with_calamine(regions):
    rows = [list(row) for row in JANUARY]
    for row in rows:
        # Excel holds real dates and numbers; one amount stays Danish text.
        row[0] = dt.datetime.strptime(row[0], "%d-%m-%Y").date()  # noqa: DTZ007
        row[3] = int(row[3])
    rows[0][7], rows[1][7], rows[3][7] = 1234.56, -234.56, 99.9
    rows[2][7] = 1250000
    batch = import_file(regions["RM"], xlsx_bytes(rows), "hovedbog.xlsx")
    assert_january(batch, regions["RM"])


def test_xlsx_falls_back_to_openpyxl_without_calamine(regions, monkeypatch):
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # import fails
    rows = [[dt.date(2025, 1, 2), 1, "F1", 12345678, "Ærø A/S", 22110, 1, 10.5, "x"]]
    batch = import_file(regions["RM"], xlsx_bytes(rows, header=HEADER[:9]), "hovedbog.xlsx")
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert LedgerLine.objects.get().amount == Decimal("10.50")


def test_column_aliases_and_the_regions_saved_column_mapping(regions):
    region = regions["RSD"]
    ColumnMapping.objects.create(
        region=region, source_header="Kreditor CVR", canonical="supplier_id"
    )
    ColumnMapping.objects.create(region=region, source_header="Nettobeløb DKK", canonical="amount")
    header = ["Dato", "Bilag", "Faktura", "Kreditor CVR", "Kreditornavn", "Kontonr"]
    header += ["Ansvarssted", "Nettobeløb DKK", "Beskrivelse", "Ekstra kolonne"]
    rows = [["05-05-2025", "1", "F1", "12345678", "Aabenraa Sygehusudstyr A/S", "1", "9", "7,00", "x", "ignored"]]  # fmt: skip
    batch = import_file(region, csv_bytes(rows, header=header))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    line = LedgerLine.objects.get()
    assert (line.supplier_id, line.amount, line.cost_centre) == ("12345678", Decimal("7.00"), "9")
    # the same headers mean nothing to a region without the mapping
    other = import_file(regions["RN"], csv_bytes(rows, header=header))
    assert other.status == ImportBatch.Status.FAILED
    assert "“Leverandør CVR”" in other.message


def test_channels_and_category_codes_are_normalised(regions):
    rows = [
        ["02-06-2025", "1", "F1", "12345678", "A", "1", "", "1,00", "x", "e-ordre", "33141000"],
        ["02-06-2025", "2", "F2", "12345678", "A", "1", "", "1,00", "x", "INDKØBSSYSTEM", "3111000"],
        ["02-06-2025", "3", "F3", "12345678", "A", "1", "", "1,00", "x", "manuel", "33141000-0"],
        ["02-06-2025", "4", "F4", "12345678", "A", "1", "", "1,00", "x", "", ""],
        ["02-06-2025", "5", "F5", "12345678", "A", "1", "", "1,00", "x", "purchasing_system", ""],
    ]  # fmt: skip
    batch = import_file(regions["RM"], csv_bytes(rows))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    lines = LedgerLine.objects.order_by("row_number")
    assert [line.order_channel for line in lines] == [
        "e_order",
        "purchasing_system",
        "manual",
        "",
        "purchasing_system",
    ]
    # a spreadsheet dropped the leading zero of 03111000
    assert [line.category_code for line in lines] == ["33141000", "03111000", "33141000", "", ""]


def test_optional_columns_may_be_missing(regions):
    batch = import_file(regions["RM"], csv_bytes([row[:9] for row in JANUARY], header=HEADER[:9]))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert set(LedgerLine.objects.values_list("order_channel", "category_code")) == {("", "")}


def test_amounts_are_exact_decimals(regions):
    # float64 would sum ten thousand 0.10 to 999.9999999999…; the ledger says 1,000.00
    rows = [["07-07-2025", str(n), f"F{n}", "12345678", "A", "1", "", "0,10", "x"] for n in range(10_000)]  # fmt: skip
    batch = import_file(regions["RM"], csv_bytes(rows, header=HEADER[:9]))
    assert batch.spend_total == Decimal("1000.00")
    assert isinstance(batch.spend_total, Decimal)


def test_amounts_written_with_the_currency_are_read_as_the_numbers(regions):
    # an extract saved from a spreadsheet with the cells formatted as kroner
    written = ["1.234,56 kr.", "DKK -234,56", "1 250 000,00 kr", "kr. 99,90", "12\u00a0000 KR."]
    rows = [["07-07-2025", str(n), f"F{n}", "12345678", "A", "1", "", amount, "x"]
            for n, amount in enumerate(written)]  # fmt: skip
    batch = import_file(regions["RM"], csv_bytes(rows, header=HEADER[:9]))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    amounts = LedgerLine.objects.order_by("row_number").values_list("amount", flat=True)
    assert list(amounts) == [
        Decimal("1234.56"),
        Decimal("-234.56"),
        Decimal("1250000.00"),
        Decimal("99.90"),
        Decimal("12000.00"),
    ]


def test_the_kroner_of_a_swedish_collaboration_and_its_code(regions, settings):
    settings.CURRENCY = "SEK"
    rows = [["07-07-2025", "1", "F1", "12345678", "A", "1", "", "1 200 000 kr", "x"],
            ["07-07-2025", "2", "F2", "12345678", "A", "1", "", "SEK 5,00", "x"],
            ["07-07-2025", "3", "F3", "12345678", "A", "1", "", "DKK 5,00", "x"]]  # fmt: skip
    refused = import_file(regions["RM"], csv_bytes(rows, header=HEADER[:9]))
    assert refused.status == ImportBatch.Status.FAILED
    assert [(e["row"], e["reason"]) for e in refused.errors] == [
        (4, "is in another currency: the ledger's amounts are in SEK")
    ]
    batch = import_file(regions["RM"], csv_bytes(rows[:2], header=HEADER[:9]), "sv.csv")
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert batch.spend_total == Decimal("1200005.00")


def test_a_given_period_is_kept_and_blank_lines_are_skipped(regions):
    data = csv_bytes(JANUARY).replace(b"\r\n02-01-2025", b"\r\n\r\n02-01-2025") + b"\r\n"
    batch = import_file(
        regions["RM"], data, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 3, 31)
    )
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert (batch.period_start, batch.period_end) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    # row numbers stay those of the file: the blank line is row 2
    assert list(LedgerLine.objects.order_by("row_number").values_list("row_number", flat=True)) == [
        3,
        4,
        5,
        6,
    ]


def test_quoted_values_with_separators_and_line_breaks(regions):
    rows = [
        [
            "08-01-2025",
            "1",
            "F1",
            "12345678",
            'Hansen & "Søn" A/S',
            "1",
            "",
            "1,00",
            "linje 1\nlinje 2; mere",
        ],  # fmt: skip
        ["09-01-2025", "2", "F2", "12345678", "B", "1", "", "2,00", "tab\there \\ backslash"],
    ]
    batch = import_file(regions["RM"], csv_bytes(rows, header=HEADER[:9]))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    first, second = LedgerLine.objects.order_by("row_number")
    assert first.supplier_name == 'Hansen & "Søn" A/S'
    assert first.description == "linje 1\nlinje 2; mere"
    assert second.description == "tab\there \\ backslash"
    assert (first.row_number, second.row_number) == (2, 3)


def test_progress_is_reported_every_chunk(regions):
    batch = upload(regions["RM"], csv_bytes(JANUARY + FEBRUARY))
    seen = []
    done = ledger_batch_process(
        batch_id=batch.pk,
        progress=lambda b: seen.append((b.rows_parsed, b.rows_validated, b.rows_loaded)),
    )
    assert done.status == ImportBatch.Status.DONE
    assert seen, "no progress reported"
    assert seen[-1] == (5, 5, 5)
    assert [parsed for parsed, _validated, _loaded in seen] == sorted(p for p, _v, _l in seen)
    assert done.rows_total == 5


def test_the_original_file_is_kept_with_its_hash(regions):
    data = csv_bytes(JANUARY)
    batch = import_file(regions["RM"], data, "RM januar 2025.csv")
    batch.file.open("rb")
    try:
        assert batch.file.read() == data
    finally:
        batch.file.close()

    assert batch.sha256 == hashlib.sha256(data).hexdigest()
    assert batch.size == len(data)
    assert batch.file_name == "RM januar 2025.csv"


def test_lines_arrive_mapped_to_their_category(regions):
    gloves = Category.objects.create(
        code="33141000", check_digit="0", label_en="Gloves", label_da="Handsker", level=4
    )
    batch = import_file(regions["RM"], csv_bytes(JANUARY))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    mapped = LedgerLine.objects.filter(category=gloves)
    assert mapped.count() == 2  # the invoice and its credit note
    assert not LedgerLine.objects.filter(category_code="", category__isnull=False).exists()
