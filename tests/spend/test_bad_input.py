"""Bad extracts: each gets a message that names the problem, and the ledger is unchanged."""

from __future__ import annotations

import datetime as dt
import io
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from rfi.models import Category
from spend.importer.errors import ERRORS_KEPT, ImportRefused
from spend.importer.pipeline import ledger_batch_create, ledger_batch_process
from spend.importer.upload import LedgerUploadLimit
from spend.models import ImportBatch, LedgerLine
from tests.spend.ledger_files import (
    HEADER,
    JANUARY,
    csv_bytes,
    english,  # noqa: F401 – fixture
    gzip_bytes,
    import_file,
    media,  # noqa: F401 – fixture
    reasons,
    snapshot,
    upload,
    xlsx_bytes,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "english")]

GOOD = ["05-02-2025", "1", "F1", "12345678", "Ærø A/S", "22110", "4100", "100,00", "x", "", ""]


@pytest.fixture
def existing(regions):
    """Region Midtjylland already holds January: a bad file must leave it as it is."""
    batch = import_file(regions["RM"], csv_bytes(JANUARY), "januar.csv")
    assert batch.status == ImportBatch.Status.DONE
    return snapshot()


def refused(region, data: bytes, name: str = "hovedbog.csv", **kwargs) -> ImportBatch:
    batch = import_file(region, data, name, **kwargs)
    assert batch.status == ImportBatch.Status.FAILED, batch.message
    assert not batch.is_current
    assert not LedgerLine.objects.filter(batch=batch).exists()
    return batch


def refused_at_upload(region, data: bytes, name: str = "hovedbog.csv") -> str:
    batches = ImportBatch.objects.count()
    with pytest.raises(ImportRefused) as caught:
        upload(region, data, name)
    assert isinstance(caught.value, ValidationError)  # forms and serializers can show it
    assert ImportBatch.objects.count() == batches
    return str(caught.value.message)


def row(**changes) -> list[str]:
    values = dict(zip(HEADER, GOOD, strict=True))
    values.update(changes)
    return list(values.values())


# Content ---------------------------------------------------------------------------------


def test_empty_file(regions, existing):
    assert "empty" in refused_at_upload(regions["RM"], b"")
    assert snapshot() == existing


def test_empty_file_inside_gzip(regions, existing):
    batch = refused(regions["RM"], gzip_bytes(b""), "hovedbog.csv.gz")
    assert "empty" in batch.message
    assert snapshot() == existing


def test_only_a_header(regions, existing):
    batch = refused(regions["RM"], csv_bytes([]))
    assert "only a header" in batch.message
    assert snapshot() == existing


def test_missing_required_column_is_named(regions, existing):
    header = [name for name in HEADER if name != "Beløb"]
    rows = [[value for name, value in zip(HEADER, GOOD, strict=True) if name != "Beløb"]]
    batch = refused(regions["RM"], csv_bytes(rows, header=header))
    assert "The file lacks the required column “Beløb”." in batch.message
    assert batch.errors[0]["column"] == "Beløb"
    assert snapshot() == existing


def test_impossible_date(regions, existing):
    batch = refused(regions["RM"], csv_bytes([row(), row(**{"Bogføringsdato": "31-02-2025"})]))
    assert batch.errors == [
        {
            "row": 3,
            "column": "Bogføringsdato",
            "value": "31-02-2025",
            "reason": "is not a real date (no such day in that month)",
        }
    ]
    assert "1 errors" in batch.message
    assert snapshot() == existing


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2025-02-30", "not a real date"),
        ("13-13-2025", "not a real date"),
        ("29-02-2025", "not a real date"),
        ("1/2/25", "not a date"),
        ("", "posting date is required"),
        ("01-01-1899", "year outside"),
    ],
)
def test_other_bad_dates(regions, value, why):
    batch = refused(regions["RM"], csv_bytes([row(**{"Bogføringsdato": value})]))
    assert why in batch.errors[0]["reason"]
    assert batch.errors[0]["value"] == value


def test_leap_day_is_a_real_date(regions):
    batch = import_file(regions["RM"], csv_bytes([row(**{"Bogføringsdato": "29-02-2024"})]))
    assert batch.status == ImportBatch.Status.DONE, batch.message


@pytest.mark.parametrize(
    "value", ["12,34,5", "1.23.4,00", "12,345", "abc", "1,2,3", "--5", "5 kroner", "kr 5 kr kr"]
)
def test_malformed_amount(regions, existing, value):
    batch = refused(regions["RM"], csv_bytes([row(), row(**{"Beløb": value})]))
    (error,) = batch.errors
    assert (error["row"], error["column"], error["value"]) == (3, "Beløb", value)
    assert "not an amount" in error["reason"]
    assert snapshot() == existing


@pytest.mark.parametrize("value", ["EUR 100,00", "100,00 EUR", "100 €", "$100", "sek 1 200"])
def test_an_amount_in_another_currency_is_refused_as_such(regions, existing, value):
    batch = refused(regions["RM"], csv_bytes([row(), row(**{"Beløb": value})]))
    (error,) = batch.errors
    assert (error["row"], error["column"], error["value"]) == (3, "Beløb", value)
    assert error["reason"] == "is in another currency: the ledger's amounts are in DKK"
    assert snapshot() == existing


def test_amount_too_large_for_the_ledger(regions):
    batch = refused(regions["RM"], csv_bytes([row(**{"Beløb": "12345678901234,00"})]))
    assert "too large" in batch.errors[0]["reason"]


@pytest.mark.parametrize(("value", "digits"), [("1234567", 7), ("123456789", 9), ("DK1234567", 7)])
def test_supplier_id_of_wrong_length(regions, existing, value, digits):
    batch = refused(regions["RM"], csv_bytes([row(**{"Leverandør CVR": value})]))
    (error,) = batch.errors
    assert error["column"] == "Leverandør CVR"
    assert error["reason"] == (
        f"is not a CVR number: a Danish supplier id has 8 digits, this one has {digits}"
    )
    assert snapshot() == existing


def test_foreign_supplier_ids_pass_but_nonsense_does_not(regions):
    ok = import_file(regions["RN"], csv_bytes([row(**{"Leverandør CVR": "SE5560000000"})]))
    assert ok.status == ImportBatch.Status.DONE
    batch = refused(regions["RM"], csv_bytes([row(**{"Leverandør CVR": "V-1000 (vendor)"})]))
    assert "is not a supplier id" in batch.errors[0]["reason"]


def test_region_column_must_match_the_chosen_region(regions, existing):
    header = [*HEADER, "Region"]
    rows = [[*GOOD, "RM"], [*GOOD, "Region Midtjylland"], [*GOOD, "RSD"]]
    batch = refused(regions["RM"], csv_bytes(rows, header=header))
    (error,) = batch.errors
    assert (error["row"], error["column"], error["value"]) == (4, "Region", "RSD")
    assert "names region RSD, but the file is imported for RM" in error["reason"]
    assert snapshot() == existing


def test_unknown_channel_and_malformed_cpv_code(regions):
    rows = [row(Bestillingskanal="fax"), row(**{"CPV-kode": "3314-1000"})]
    batch = refused(regions["RM"], csv_bytes(rows))
    assert [(e["row"], e["column"]) for e in batch.errors] == [
        (2, "Bestillingskanal"),
        (3, "CPV-kode"),
    ]
    assert "not an ordering channel" in batch.errors[0]["reason"]
    assert "not a CPV code" in batch.errors[1]["reason"]


def test_a_cpv_code_with_the_wrong_check_digit_is_refused(regions):
    Category.objects.update_or_create(
        code="33141000",
        defaults={"check_digit": "0", "level": 4, "label_da": "Forbrugsartikler", "label_en": "C"},
    )
    rows = [row(**{"CPV-kode": "33141000-0"}), row(**{"CPV-kode": "33141000-7"})]

    batch = refused(regions["RM"], csv_bytes(rows))

    assert [(e["row"], e["column"], e["value"]) for e in batch.errors] == [
        (3, "CPV-kode", "33141000-7")
    ]
    assert "33141000 is 0, not 7" in batch.errors[0]["reason"]


def test_required_values_and_too_long_texts(regions):
    rows = [row(Fakturanr="", Konto=""), row(Tekst="x" * 501)]
    batch = refused(regions["RM"], csv_bytes(rows))
    assert [(e["row"], e["column"]) for e in batch.errors] == [
        (2, "Fakturanr"),
        (2, "Konto"),
        (3, "Tekst"),
    ]
    assert "longer than 500 characters" in batch.errors[2]["reason"]


def test_rows_outside_a_given_period(regions):
    batch = refused(
        regions["RM"],
        csv_bytes([row(), row(**{"Bogføringsdato": "01-03-2025"})]),
        period_start=dt.date(2025, 2, 1),
        period_end=dt.date(2025, 2, 28),
    )
    assert batch.errors[0]["row"] == 3
    assert "outside the period 01-02-2025 – 28-02-2025" in batch.errors[0]["reason"]


def test_a_row_with_too_many_or_too_few_fields(regions):
    lines = csv_bytes([row(), row(), row()]).split(b"\r\n")
    lines[2] += b";extra;fields"
    lines[3] = b"05-02-2025;1;F1"
    data = b"\r\n".join(lines)
    batch = refused(regions["RM"], data)
    assert [e["row"] for e in batch.errors] == [3, 4]
    assert "has 13 fields where the header has 11" in batch.errors[0]["reason"]
    assert "has 3 fields where the header has 11" in batch.errors[1]["reason"]


def test_every_error_is_reported_not_only_the_first(regions, existing):
    rows = [row(**{"Beløb": "12,34,5"}) for _ in range(ERRORS_KEPT + 500)]
    rows.insert(0, row(**{"Bogføringsdato": "31-02-2025", "Leverandør CVR": "1"}))
    batch = refused(regions["RM"], csv_bytes(rows))
    assert batch.error_count == ERRORS_KEPT + 502
    assert len(batch.errors) == ERRORS_KEPT
    # the first errors are those of the first rows, in column order
    assert [e["column"] for e in batch.errors[:3]] == ["Bogføringsdato", "Leverandør CVR", "Beløb"]
    with batch.errors_file.open("rb") as fh:
        report = fh.read().decode("utf-8-sig").splitlines()
    assert report[0] == "row;column;value;reason"
    assert len(report) == ERRORS_KEPT + 503
    assert report[-1].startswith(f"{ERRORS_KEPT + 502};Beløb;12,34,5;")
    assert snapshot() == existing


def test_error_report_opens_formulas_as_text(regions, existing):
    # The report echoes the file's values; a spreadsheet must not run them as formulas.
    rows = [
        row(**{"Beløb": "=1+2"}),
        row(**{"Beløb": "-12,34,5"}),
        row(**{"Leverandør CVR": "@SUM(A1)"}),
    ]
    batch = refused(regions["RM"], csv_bytes(rows))
    with batch.errors_file.open("rb") as fh:
        report = fh.read().decode("utf-8-sig").splitlines()
    assert report[1].startswith("2;Beløb;'=1+2;")
    assert report[2].startswith("3;Beløb;'-12,34,5;")
    assert report[3].startswith("4;Leverandør CVR;'@SUM(A1);")
    assert [e["value"] for e in batch.errors] == ["=1+2", "-12,34,5", "@SUM(A1)"]  # page: as is
    assert snapshot() == existing


def test_refused_file_can_be_corrected_and_uploaded_again(regions):
    bad = refused(regions["RM"], csv_bytes([row(**{"Beløb": "12,34,5"})]))
    good = import_file(regions["RM"], csv_bytes([row()]))
    assert good.status == ImportBatch.Status.DONE
    bad.refresh_from_db()
    assert bad.status == ImportBatch.Status.FAILED


# The file itself ---------------------------------------------------------------------------


def test_file_over_the_size_limit_is_refused_while_streaming(regions, existing, settings):
    settings.LEDGER_MAX_UPLOAD_BYTES = 1000
    data = csv_bytes([row()] * 60_000)
    assert len(data) > 3 << 20

    class Unsized(io.BytesIO):
        """A stream that does not announce its size: the limit must bite while reading."""

        read_total = 0

        def read(self, size=-1):
            chunk = super().read(size)
            Unsized.read_total += len(chunk)
            return chunk

    with pytest.raises(ImportRefused, match="larger than the limit"):
        ledger_batch_create(
            region=regions["RM"], uploaded_file=Unsized(data), file_name="big.csv", source="api"
        )
    assert Unsized.read_total <= 1 << 20  # stopped in the first block past the limit
    message = refused_at_upload(regions["RM"], data, "big.csv")
    assert "larger than the limit of 1000" in message
    assert snapshot() == existing
    assert not list(Path(settings.MEDIA_ROOT).rglob("big*"))


@pytest.mark.parametrize(
    "name",
    ["../hovedbog.csv", "../../etc/passwd.csv", "dir/hovedbog.csv", "C:\\data\\hovedbog.csv", ".."],
)
def test_file_name_with_path_parts(regions, existing, name):
    assert "contains a path" in refused_at_upload(regions["RM"], csv_bytes([row()]), name)
    assert snapshot() == existing


@pytest.mark.parametrize(("name", "why"), [("hovedbog.xls", ".xls"), ("hovedbog.pdf", "PDF"), ("hovedbog.docx", "not a ledger extract")])  # fmt: skip
def test_unsupported_file_types(regions, name, why):
    assert why in refused_at_upload(regions["RM"], b"whatever", name)


def test_csv_that_is_really_binary(regions, existing):
    data = bytes(range(256)) * 40
    batch = refused(regions["RM"], data)
    assert "binary" in batch.message
    assert snapshot() == existing


def test_text_that_is_neither_utf8_nor_windows_1252(regions):
    data = csv_bytes([row()], encoding="utf-8") + b"\x81\x8d\x8f\x90\x9d"
    batch = refused(regions["RM"], data)
    assert "neither UTF-8 nor Windows-1252" in batch.message


@pytest.mark.parametrize(
    ("data", "name", "why"),
    [
        (lambda: xlsx_bytes([GOOD]), "hovedbog.csv", "named as a CSV text file but is a zip"),
        (lambda: csv_bytes([GOOD]), "hovedbog.xlsx", "named .xlsx but is not an Excel workbook"),
        (lambda: b"%PDF-1.7 ...", "hovedbog.csv", "is a PDF document"),
        (lambda: csv_bytes([GOOD]), "hovedbog.csv.gz", "not gzip-compressed"),
        (lambda: b"\xd0\xcf\x11\xe0" + bytes(100), "hovedbog.xlsx", "old Excel (.xls)"),
        (lambda: gzip_bytes(xlsx_bytes([GOOD])), "hovedbog.csv.gz", "is a zip archive"),
    ],
)
def test_file_that_is_not_what_its_extension_says(regions, existing, data, name, why):
    batch = refused(regions["RM"], data(), name)
    assert why in batch.message
    assert snapshot() == existing


def test_corrupted_xlsx(regions, existing):
    whole = xlsx_bytes([GOOD])
    batch = refused(regions["RM"], whole[: len(whole) // 2], "hovedbog.xlsx")
    assert "damaged" in batch.message
    batch = refused(regions["RM"], b"PK\x03\x04" + bytes(range(256)) * 8, "hovedbog2.xlsx")
    assert "damaged" in batch.message
    assert snapshot() == existing


def test_xlsx_without_a_workbook(regions):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    batch = refused(regions["RM"], buffer.getvalue(), "hovedbog.xlsx")
    assert "not an Excel workbook" in batch.message


def _rezip(data: bytes, replace: dict[str, bytes], *, level: int = 6) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
    return buffer.getvalue()


def test_xlsx_zip_bomb_is_refused_fast_without_memory_growth(regions, existing):
    # given a workbook whose sheet inflates 1,000 times, to 200 MB of XML
    sheet = b'<?xml version="1.0"?><worksheet>' + b" " * (200 << 20) + b"</worksheet>"
    bomb = _rezip(xlsx_bytes([GOOD]), {"xl/worksheets/sheet1.xml": sheet}, level=9)
    del sheet
    assert len(bomb) < 1 << 20
    batch = upload(regions["RM"], bomb, "hovedbog.xlsx")
    # when it is processed
    tracemalloc.start()
    started = time.perf_counter()
    batch = ledger_batch_process(batch_id=batch.pk)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # then it is refused within a second, from the zip directory alone
    assert batch.status == ImportBatch.Status.FAILED
    assert "zip bomb" in batch.message
    assert "xl/worksheets/sheet1.xml" in batch.message
    assert elapsed < 1.0
    assert peak < 20 << 20
    assert snapshot() == existing


def test_xlsx_inflating_past_the_total_limit(regions, settings):
    settings.LEDGER_MAX_UNCOMPRESSED_BYTES = 10_000
    batch = refused(regions["RM"], xlsx_bytes([GOOD] * 200), "hovedbog.xlsx")
    assert "zip bomb" in batch.message
    assert "the limit is" in batch.message


def test_xlsx_with_external_entities(regions, existing):
    workbook = xlsx_bytes([GOOD])
    original = zipfile.ZipFile(io.BytesIO(workbook)).read("xl/worksheets/sheet1.xml")
    evil = original.replace(
        b"<worksheet",
        b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><worksheet',
        1,
    ).replace(b"<v>1</v>", b"<v>&xxe;</v>", 1)
    batch = refused(
        regions["RM"], _rezip(workbook, {"xl/worksheets/sheet1.xml": evil}), "hovedbog.xlsx"
    )
    assert "DOCTYPE or entities" in batch.message
    assert "xl/worksheets/sheet1.xml" in batch.message
    assert snapshot() == existing


def test_xlsx_with_an_entity_in_a_small_part(regions):
    workbook = xlsx_bytes([GOOD])
    original = zipfile.ZipFile(io.BytesIO(workbook)).read("xl/workbook.xml")
    evil = original.replace(b"<workbook", b'<!DOCTYPE w [<!ENTITY a "aaaa">]><workbook', 1)
    batch = refused(regions["RM"], _rezip(workbook, {"xl/workbook.xml": evil}), "hovedbog.xlsx")
    assert "DOCTYPE or entities" in batch.message


def test_gzip_that_inflates_past_the_limit(regions, settings):
    settings.LEDGER_MAX_UNCOMPRESSED_BYTES = 10_000
    batch = refused(regions["RM"], gzip_bytes(csv_bytes([row()] * 500)), "hovedbog.csv.gz")
    assert "inflates past" in batch.message


def test_damaged_gzip(regions):
    data = gzip_bytes(csv_bytes([row()] * 50))
    batch = refused(regions["RM"], data[: len(data) // 2], "hovedbog.csv.gz")
    assert "gzip file is damaged" in batch.message


def test_first_line_without_a_separator(regions):
    batch = refused(regions["RM"], b"just some text\r\nmore text\r\n")
    assert "No column separator" in batch.message


def test_duplicate_column(regions):
    header = [*HEADER, "Amount"]
    batch = refused(regions["RM"], csv_bytes([[*GOOD, "1,00"]], header=header))
    assert "“Beløb” and “Amount” both hold amount" in batch.message


def test_period_half_given_is_refused_at_upload(regions):
    with pytest.raises(ImportRefused, match="both the first and the last day"):
        ledger_batch_create(
            region=regions["RM"],
            uploaded_file=io.BytesIO(csv_bytes([row()])),
            file_name="x.csv",
            period_start=dt.date(2025, 1, 1),
        )


def test_reasons_helper_covers_the_report(regions):
    batch = refused(regions["RM"], csv_bytes([row(**{"Beløb": "x"})]))
    assert "Beløb x is not an amount" in reasons(batch)


def test_a_browser_upload_is_cut_off_at_the_limit_while_it_streams(settings):
    settings.LEDGER_MAX_UPLOAD_BYTES = 100_000
    big = SimpleUploadedFile("hovedbog.csv", csv_bytes([row()] * 5_000))
    small = SimpleUploadedFile("lille.csv", csv_bytes([row()]))
    for upload_file, too_large in ((big, True), (small, False)):
        request = RequestFactory().post("/forbrug/upload/", {"file": upload_file})
        request.upload_handlers.insert(0, LedgerUploadLimit(request))
        files = request.FILES
        assert getattr(request, "ledger_upload_too_large", False) is too_large
        assert ("file" in files) is not too_large


# Absurd files fail cleanly (issue: safe data paths, §4) -------------------------------------


def test_a_field_over_the_reader_block_is_refused_cleanly_and_not_left_running(regions, existing):
    huge = "x" * (9 << 20)  # 9 MB in one text cell

    batch = refused(regions["RM"], csv_bytes([row(), row(Tekst=huge)]))

    [error] = batch.errors
    assert (error["row"], error["column"]) == (3, "Tekst")
    assert "500" in error["reason"]
    assert len(error["value"]) <= 201  # the value is shortened, in the batch and the report
    assert batch.errors_file.size < 2000
    assert batch.attempts <= 1
    assert snapshot() == existing


def test_the_error_report_is_capped_and_names_the_total(regions, existing, settings):
    settings.LEDGER_ERROR_REPORT_ROWS = 50
    junk = csv_bytes([row(**{"Beløb": f"junk-{n}"}) for n in range(400)])

    batch = refused(regions["RM"], junk)

    assert batch.error_count == 400
    report = batch.errors_file.read().decode("utf-8-sig").splitlines()
    assert len(report) == 1 + 50 + 1  # header, the first 50, the closing line
    assert "400" in report[-1]
    assert batch.errors_file.size <= batch.size


def test_a_refused_file_uploaded_again_answers_at_once_with_the_earlier_report(regions):
    data = csv_bytes([row(**{"Beløb": "12,34,5"})])
    first = refused(regions["RM"], data)

    again = upload(regions["RM"], data, "hovedbog.csv")

    assert again.pk != first.pk
    assert again.status == ImportBatch.Status.FAILED  # at once: never queued, never sent
    assert again.sent_at is None and again.started_at is None
    assert again.error_count == first.error_count and again.errors == first.errors
    assert str(first.pk) in again.message
