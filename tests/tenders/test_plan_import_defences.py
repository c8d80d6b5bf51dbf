"""The plan import (/fup/import/ and import_fup) gets the ledger import's defences:
every file passes rfi.spreadsheet.checks before a cell is read."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

from tenders import excel, selectors
from tenders.models import TenderCase
from tests.conftest import client_for
from tests.tenders.test_excel import build_plan, snapshot

pytestmark = pytest.mark.django_db

DOCTYPE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def plan(regions, secretariat):
    return build_plan(regions, secretariat)


def with_doctype(content: bytes, part: str = "xl/workbook.xml") -> bytes:
    """The workbook with a DOCTYPE declaring an external entity in one of its XML parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        assert part in source.namelist()
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
                data = DOCTYPE + body.lstrip()
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """About 400 KB that would inflate to about 400 MB: four sheets of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        block = b"0" * (1 << 20)
        for n in range(1, 5):
            with archive.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as sheet:
                for _ in range(100):
                    sheet.write(block)
    data = out.getvalue()
    assert len(data) < 600 * 1024
    return data


def upload(user, content: bytes, name: str):
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.post(reverse("tenders:import"), {"file": SimpleUploadedFile(name, content)})


def test_an_xlsx_with_a_doctype_is_refused_with_a_clear_error_not_a_500(plan, secretariat):
    before = snapshot()
    content = with_doctype(excel.plan_export(selectors.tender_list()))

    response = upload(secretariat, content, "plan.xlsx")

    assert response.status_code == 422
    assert "DOCTYPE" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    "part", ["xl/styles.xml", "xl/worksheets/sheet1.xml", "[Content_Types].xml"]
)
def test_a_doctype_in_any_part_is_refused(plan, secretariat, part):
    content = with_doctype(excel.plan_export(selectors.tender_list()), part)

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    assert not result.ok
    assert "DOCTYPE" in result.errors[0].reason
    assert result.created == result.updated == 0


def test_a_zip_bomb_is_refused_before_it_is_inflated(plan, secretariat, zip_bomb, monkeypatch):
    opened = []
    original = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile,
        "open",
        lambda self, name, *a, **k: opened.append(name) or original(self, name, *a, **k),
    )
    tracemalloc.start()
    started = time.perf_counter()
    response = upload(secretariat, zip_bomb, "plan.xlsx")
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert response.status_code == 422
    assert "zip bomb" in response.content.decode()
    assert opened == []  # judged from the zip directory: nothing was inflated
    assert peak < 30 * 1024 * 1024
    assert seconds < 5


def test_import_fup_refuses_a_zip_bomb_and_a_doctype(plan, secretariat, zip_bomb, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(zip_bomb)
    entities = tmp_path / "entities.xlsx"
    entities.write_bytes(with_doctype(excel.plan_export(selectors.tender_list())))
    count = TenderCase.objects.count()

    for path, words in ((bomb, "zip bomb"), (entities, "DOCTYPE")):
        err = io.StringIO()
        with pytest.raises(CommandError, match="nothing was saved"):
            call_command("import_fup", str(path), "--user", secretariat.username, stderr=err)
        assert words in err.getvalue()
    assert TenderCase.objects.count() == count


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b"Titel;CPV-kode\nKatetre;33141200\n", "plan.xlsx", "is not an Excel workbook"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "plan.csv", "is named as a CSV"),
        (b"Titel;CPV\x00\x01\x02;\x03\x04\n" * 50, "plan.csv", "binary data"),
        (b"PK\x03\x04 not really a zip", "plan.xlsx", "damaged"),
    ],
)
def test_disguised_files_are_refused_by_what_they_are(plan, secretariat, content, name, words):
    response = upload(secretariat, content, name)

    assert response.status_code == 422
    assert words in response.content.decode()


def test_a_file_over_the_limit_is_refused_by_the_import_itself(plan, secretariat, monkeypatch):
    monkeypatch.setattr("tenders.excel.importer.PLAN_MAX_UPLOAD_BYTES", 1000)
    content = excel.plan_export(selectors.tender_list())

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    assert not result.ok
    assert "larger than the limit" in result.errors[0].reason
