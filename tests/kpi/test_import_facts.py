"""The facts an import writes from its streamed chunks equal the facts grouped from its lines
(issue 17 §2, kpi.import_facts), on random files imported through the real pipeline.

Each seed draws the world of tests/kpi/test_facts.py (contracts from joint tenders and
alone, starting mid-month, an exclusion rule and a supplier mapping rule), then imports
Danish CSV extracts: a whole year that a region holds alone (its transactions are counted
from the streamed vouchers), a month inside a year another batch holds (that batch's lines
of the year are read back and counted with the stream's), and a whole-year replacement. After each,
the stored facts must equal a rebuild from the lines, and every KPI figure must equal the
line-level reference.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from kpi import facts, import_facts, services
from kpi.models import LedgerTransactionFact
from spend.models import ImportBatch
from tests.kpi.test_facts import SUPPLIERS, _facts_table, _world
from tests.spend.ledger_files import csv_bytes, import_file

pytestmark = pytest.mark.django_db

CODES = ["33141110", "33600000", "30190000", "03111000", "45000000", "85100000", ""]
CHANNEL_LABELS = ["", "E-ordre", "Indkøbssystem", "Manuel", "e-handel"]


def _amount(value: Decimal) -> str:
    """Danish: thousands with '.', decimal comma."""
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{groups},{cents}"


def _extract(rng: random.Random, start: dt.date, end: dt.date, n: int) -> bytes:
    invoices = [f"F-{i}" for i in range(max(n // 3, 1))]
    rows = []
    for i in range(n):
        day = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
        amount = Decimal(rng.randrange(-50_000, 900_000)) / 100
        rows.append(
            [
                day.strftime("%d-%m-%Y"),
                str(1000 + i),
                rng.choice(invoices),
                rng.choice(SUPPLIERS),
                "Leverandør ÆØÅ",
                rng.choice(["4000", "4000", "4000", "9000"]),
                "CC1",
                _amount(amount),
                "Varer",
                rng.choice(CHANNEL_LABELS),
                rng.choice(CODES),
            ]
        )
    return csv_bytes(rows)


def _same_as_the_lines() -> None:
    maintained = _facts_table()
    assert facts.compare_with_lines() == []
    facts.rebuild()
    assert _facts_table() == maintained


@pytest.mark.parametrize("seed", range(4))
def test_facts_from_the_streamed_import_equal_the_facts_from_its_lines(seed, regions, monkeypatch):
    monkeypatch.setattr(services, "TOP_SUPPLIERS", 3)
    rng = random.Random(100 + seed)
    _world(rng, regions)
    rm, rsd = regions["RM"], regions["RSD"]
    streamed = []
    counted_from_stream = []
    real_add = import_facts.ImportFacts.add
    real_write = import_facts.ImportFacts.write_transaction_facts

    def add(self, table):
        streamed.append(table.num_rows)
        return real_add(self, table)

    def write(self, **kwargs):
        counted_from_stream.append(self.batch_id)
        return real_write(self, **kwargs)

    read_back = []
    real_read = import_facts._lines_as_vouchers

    def read(batch_ids, years):
        read_back.append((list(batch_ids), list(years)))
        return real_read(batch_ids, years)

    monkeypatch.setattr(import_facts, "_lines_as_vouchers", read)
    monkeypatch.setattr(import_facts.ImportFacts, "add", add)
    monkeypatch.setattr(import_facts.ImportFacts, "write_transaction_facts", write)

    # RM's first extract of 2026: the region holds that year alone
    year = import_file(rm, _extract(rng, dt.date(2026, 1, 1), dt.date(2026, 11, 30), 240))
    assert year.status == ImportBatch.Status.DONE, year.errors
    assert sum(streamed) == 240 and counted_from_stream == [year.pk] and read_back == []
    assert LedgerTransactionFact.objects.filter(region=rm, year=2026).exists()
    _same_as_the_lines()

    # a corrected March 2025 for RM, inside the year its world batch holds: that batch's
    # lines of 2025 are read back (invoices may span both) and counted with the stream's
    march = import_file(
        rm, _extract(rng, dt.date(2025, 3, 1), dt.date(2025, 3, 31), 60), name="marts.csv"
    )
    assert march.status == ImportBatch.Status.DONE, march.errors
    world_2025 = ImportBatch.objects.exclude(pk=march.pk).get(
        region=rm, is_current=True, period_start__year=2025
    )
    assert counted_from_stream == [year.pk, march.pk]
    assert read_back == [([world_2025.pk], [2025])]
    _same_as_the_lines()

    # RSD's 2024 replaced whole by a new extract (declared period): alone again
    replacement = import_file(
        rsd,
        _extract(rng, dt.date(2024, 1, 1), dt.date(2024, 12, 31), 150),
        name="rsd-2024.csv",
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 12, 31),
    )
    assert replacement.status == ImportBatch.Status.DONE, replacement.errors
    assert counted_from_stream == [year.pk, march.pk, replacement.pk]
    assert len(read_back) == 1
    _same_as_the_lines()


def test_a_rule_changed_during_the_import_makes_the_facts_come_from_the_lines(regions, monkeypatch):
    """The annotations were not final (the lines were re-mapped at the switch-in), so what
    the stream saw is not what the batch holds: the facts are grouped from the lines."""
    rng = random.Random(7)
    _world(rng, regions)
    rm = regions["RM"]
    monkeypatch.setattr("spend.matching.LineAnnotator.is_stale", lambda self: True)
    written = []
    monkeypatch.setattr(
        import_facts.ImportFacts, "write_line_facts", lambda self: written.append(self)
    )
    batch = import_file(rm, _extract(rng, dt.date(2026, 2, 1), dt.date(2026, 2, 28), 50))
    assert batch.status == ImportBatch.Status.DONE, batch.errors
    assert written == []
    _same_as_the_lines()


def test_a_file_with_more_vouchers_than_it_holds_has_its_transactions_recounted(
    regions, monkeypatch
):
    """The memory bound: partial groups are summed as they come, and past the voucher limit
    the stream keeps the line facts only; the transactions are recounted from the lines."""
    rng = random.Random(11)
    _world(rng, regions)
    monkeypatch.setattr(import_facts, "COMPACT_EVERY", 1)
    monkeypatch.setattr(import_facts, "VOUCHER_ROWS_LIMIT", 20)
    counted = []
    real_write = import_facts.ImportFacts.write_transaction_facts
    monkeypatch.setattr(
        import_facts.ImportFacts,
        "write_transaction_facts",
        lambda self, **kwargs: counted.append(self) or real_write(self, **kwargs),
    )
    written = []
    real_lines = import_facts.ImportFacts.write_line_facts
    monkeypatch.setattr(
        import_facts.ImportFacts,
        "write_line_facts",
        lambda self: written.append(self) or real_lines(self),
    )
    batch = import_file(
        regions["RSD"], _extract(rng, dt.date(2026, 1, 1), dt.date(2026, 6, 30), 200)
    )
    assert batch.status == ImportBatch.Status.DONE, batch.errors
    assert len(written) == 1 and not written[0].counts_transactions
    assert counted == []
    _same_as_the_lines()
