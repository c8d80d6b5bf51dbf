"""The commands: import_ledger, generate_ledger (a realistic extract), benchmark_import."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from spend.models import ImportBatch, LedgerLine
from tests.factories import UserFactory
from tests.spend.ledger_files import (
    JANUARY,
    JANUARY_TOTAL,
    csv_bytes,
    english,  # noqa: F401 – fixture
    media,  # noqa: F401 – fixture
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "english")]


def run(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_import_ledger_prints_the_result(regions, tmp_path):
    path = tmp_path / "januar.csv"
    path.write_bytes(csv_bytes(JANUARY))
    UserFactory(username="erp")
    code, out, _err = run("import_ledger", str(path), "--region", "RM", "--user", "erp")
    assert code == 0
    assert "4 lines imported for 01-01-2025 – 31-01-2025" in out
    batch = ImportBatch.objects.get()
    assert batch.source == ImportBatch.Source.COMMAND
    assert batch.uploaded_by.username == "erp"
    assert batch.spend_total == JANUARY_TOTAL


def test_import_ledger_prints_the_errors_and_exits_1(regions, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([["31-02-2025", *JANUARY[0][1:]]]))
    code, _out, err = run("import_ledger", str(path), "--region", "RM")
    assert code == 1
    assert "row 2, column Bogføringsdato: '31-02-2025' is not a real date" in err
    assert "All errors:" in err
    assert not LedgerLine.objects.exists()


def test_import_ledger_refused_file_name_and_json(regions, tmp_path):
    path = tmp_path / "ledger.pdf"
    path.write_bytes(b"%PDF")
    code, out, _err = run("import_ledger", str(path), "--region", "RM", "--json")
    assert code == 1
    assert json.loads(out)["status"] == "refused"
    assert "PDF" in json.loads(out)["message"]


def test_import_ledger_with_a_period_and_an_unknown_region(regions, tmp_path):
    path = tmp_path / "januar.csv"
    path.write_bytes(csv_bytes(JANUARY))
    code, out, _err = run(
        "import_ledger",
        str(path),
        "--region",
        "RSD",
        "--period-start",
        "01-01-2025",
        "--period-end",
        "2025-03-31",
        "--json",
        "--replace",  # February and March get no lines: confirmed
    )
    assert code == 0
    result = json.loads(out)
    assert result["period"] == ["2025-01-01", "2025-03-31"]
    assert result["rows"] == 4
    with pytest.raises(CommandError, match="No region 'XX'"):
        call_command("import_ledger", str(path), "--region", "XX")


def test_generate_ledger_writes_a_realistic_danish_extract(regions, tmp_path):
    path = tmp_path / "rm.csv"
    code, out, _err = run(
        "generate_ledger", "--rows", "20000", "--region", "RM", "--seed", "7", "--out", str(path)
    )
    assert code == 0 and "Wrote 20,000 lines" in out
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Danish Excel saves it
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    header, lines = rows[0], rows[1:]
    assert header[:3] == ["Bogføringsdato", "Bilagsnr", "Fakturanr"]
    assert len(lines) == 20_000
    amounts = [Decimal(line[7].replace(".", "").replace(",", ".")) for line in lines]
    small = sum(1 for amount in amounts if amount < 10_000) / len(amounts)
    assert 0.7 < small < 0.9  # ~80 % of invoice lines under 10,000 DKK
    assert any(amount < 0 for amount in amounts)  # credit notes
    assert {line[9] for line in lines} == {"E-ordre", "Indkøbssystem", "Manuel", ""}
    assert 0.1 < sum(1 for line in lines if not line[10]) / len(lines) < 0.4
    assert any(ch in line[4] for line in lines for ch in "æøåÆØÅ")
    weights = (2, 7, 6, 5, 4, 3, 2, 1)
    for cvr in {line[3] for line in lines}:
        assert (
            len(cvr) == 8 and sum(w * int(d) for w, d in zip(weights, cvr, strict=True)) % 11 == 0
        )
    # Pareto: the top fifth of the suppliers carry most of the spend
    spend = Counter()
    for line, amount in zip(lines, amounts, strict=True):
        spend[line[3]] += amount
    ranked = sorted(spend.values(), reverse=True)
    assert sum(ranked[: len(ranked) // 5]) / sum(ranked) > 0.6
    # and the importer takes it as it is
    code, out, _err = run("import_ledger", str(path), "--region", "RM")
    assert code == 0, out
    assert LedgerLine.objects.count() == 20_000
    assert ImportBatch.objects.get().spend_total == sum(amounts)


def test_generate_ledger_is_reproducible_and_writes_every_format(regions, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (first, second):
        run("generate_ledger", "--rows", "500", "--region", "RN", "--seed", "3", "--out", str(path))
    assert first.read_bytes() == second.read_bytes()
    gz, xlsx, ansi = tmp_path / "c.csv.gz", tmp_path / "d.xlsx", tmp_path / "e.csv"
    run("generate_ledger", "--rows", "500", "--region", "RN", "--seed", "3", "--out", str(gz))
    run("generate_ledger", "--rows", "500", "--region", "RN", "--seed", "3", "--out", str(xlsx))
    run(
        "generate_ledger",
        *("--rows", "500", "--region", "RN", "--seed", "3", "--out", str(ansi)),
        *("--encoding", "cp1252"),
    )
    assert gzip.decompress(gz.read_bytes()) == first.read_bytes()
    assert ansi.read_bytes() == first.read_bytes().decode("utf-8-sig").encode("cp1252")
    assert xlsx.read_bytes().startswith(b"PK\x03\x04")
    totals = set()
    for path, region in ((first, "RN"), (xlsx, "RSD"), (ansi, "RH"), (gz, "RSJ")):
        code, out, err = run("import_ledger", str(path), "--region", region, "--json")
        assert code == 0, err
        totals.add(json.loads(out)["spend_total"])
    assert len(totals) == 1  # the same lines whatever the format and encoding


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the SQLite refusal")
def test_benchmark_import_needs_postgresql():
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("benchmark_import", "--rows", "10")
