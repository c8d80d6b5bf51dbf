"""Small hand-made ledger extracts (CSV, gzip, xlsx) and helpers to import them in tests."""

from __future__ import annotations

import gzip
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.utils import translation
from openpyxl import Workbook

from spend.importer.pipeline import ledger_batch_create, ledger_batch_process
from spend.models import ImportBatch, LedgerLine

HEADER = [
    "Bogføringsdato",
    "Bilagsnr",
    "Fakturanr",
    "Leverandør CVR",
    "Leverandørnavn",
    "Konto",
    "Omkostningssted",
    "Beløb",
    "Tekst",
    "Bestillingskanal",
    "CPV-kode",
]
# January 2025 for Region Midtjylland: an invoice, a credit note, a large invoice with
# thousands separators, a line without category code; names with æ, ø and å.
JANUARY = [
    ["02-01-2025", "1001", "F-1", "12345678", "Ærø Hospitalsudstyr A/S", "22110", "4100", "1.234,56", "Handsker nitril", "E-ordre", "33141000-0"],
    ["03-01-2025", "1002", "K-7", "12345678", "Ærø Hospitalsudstyr A/S", "22110", "4100", "-234,56", "Kreditnota: handsker", "E-ordre", "33141000-0"],
    ["15-01-2025", "1003", "F-9", "87654321", "Søborg Rådgivning ApS", "27100", "4200", "1.250.000,00", "Rådgivende ingeniør", "Manuel", ""],
    ["31-01-2025", "1004", "F-10", "11223344", "Fåborg Fødevarer I/S", "23100", "4300", "99,90", "Kaffe og te", "Indkøbssystem", "15860000-4"],
]  # fmt: skip
JANUARY_TOTAL = Decimal("1251099.90")
# A corrected January extract: replaces the one above.
JANUARY_V2 = [
    ["02-01-2025", "2001", "F-1", "12345678", "Ærø Hospitalsudstyr A/S", "22110", "4100", "1.000,00", "Handsker nitril", "E-ordre", "33141000-0"],
    ["20-01-2025", "2002", "F-3", "87654321", "Søborg Rådgivning ApS", "27100", "4200", "500,50", "Rådgivning", "", ""],
]  # fmt: skip
JANUARY_V2_TOTAL = Decimal("1500.50")
FEBRUARY = [
    ["03-02-2025", "3001", "F-20", "12345678", "Ærø Hospitalsudstyr A/S", "22110", "4100", "10,00", "Sprøjter", "E-ordre", "33141310-5"],
]  # fmt: skip


def csv_bytes(
    rows: list[list[str]],
    *,
    header: list[str] = HEADER,
    separator: str = ";",
    encoding: str = "utf-8-sig",
    newline: str = "\r\n",
) -> bytes:
    """Rows as an ERP would export them; values holding the separator get quoted."""

    def field(value: str) -> str:
        if separator in value or '"' in value or "\n" in value:
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [separator.join(field(value) for value in row) for row in [header, *rows]]
    return (newline.join(lines) + newline).encode(encoding)


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data)


def xlsx_bytes(rows: list[list], *, header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Hovedbog"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(region, data: bytes, name: str = "hovedbog.csv", **kwargs) -> ImportBatch:
    """Store an extract as a browser upload would (status queued or duplicate).

    These tests mean to replace what they re-upload over: the confirmation is given unless
    a test passes replace_confirmed=False (tests/spend/test_replace_confirmation.py)."""
    kwargs.setdefault("replace_confirmed", True)
    return ledger_batch_create(
        region=region,
        uploaded_file=SimpleUploadedFile("upload", data),
        file_name=name,
        source=ImportBatch.Source.UPLOAD,
        **kwargs,
    )


def import_file(region, data: bytes, name: str = "hovedbog.csv", **kwargs) -> ImportBatch:
    """Upload and process an extract; return the batch as it ends."""
    batch = upload(region, data, name, **kwargs)
    if batch.status == ImportBatch.Status.QUEUED:
        batch = ledger_batch_process(batch_id=batch.pk)
    return batch


def current_total(region) -> Decimal:
    """What a reader sees: Σ amount of the region's lines in current batches."""
    lines = LedgerLine.objects.filter(region=region, batch__is_current=True)
    return lines.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def snapshot() -> tuple:
    """Every ledger line and which batches are current: equal before and after = unchanged."""
    lines = tuple(
        LedgerLine.objects.order_by("pk").values_list("pk", "batch_id", "amount", "posting_date")
    )
    current = tuple(
        ImportBatch.objects.filter(is_current=True)
        .order_by("pk")
        .values_list("pk", "period_start", "period_end", "status")
    )
    return lines, current


def reasons(batch: ImportBatch) -> str:
    """The batch's message and every error reason, in one text to search."""
    parts = [batch.message]
    for error in batch.errors:
        parts.append(f"{error['row']} {error['column']} {error['value']} {error['reason']}")
    return "\n".join(parts)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def english():
    with translation.override("en"):
        yield
