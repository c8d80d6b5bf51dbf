"""KPIs from the facts equal KPIs from the lines (issue 17 §1), on random ledgers.

Seeded random loops (no hypothesis in the dev requirements): each seed draws contracts
(some from joint tenders, starting and ending mid-month), exclusion and mapping rules and
two regions' ledgers in which invoices repeat across months and suppliers, then compares
every figure of kpi.services.compute_snapshots computed from the facts with the
line-level reference in kpi.compute: after a re-matching, after an import's switch-in
that trims and replaces batches, after a contract change, and after a rebuild.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from kpi import facts, services
from kpi.models import LedgerMonthFact, LedgerSupplierMonthFact, LedgerTransactionFact
from kpi.services import kpi_recompute, strategy_copy, strategy_load
from rfi.models import Region
from spend import matching
from spend.importer import pipeline
from spend.models import ExclusionRule, ImportBatch, MappingRule
from tenders.models import Participation, TenderCase
from tests.spend import spend_data as sd

pytestmark = pytest.mark.django_db

CODES = ["33141110", "33600000", "30190000", "03111000", "45000000", "85100000", ""]
CONTRACT_CODES = ["33140000", "33000000", "30190000", "85000000", "45000000", "03000000"]
SUPPLIERS = ["11111111", "22222222", "33333333", "44444444", "55555555", "66666666"]
CHANNELS = ["", "e_order", "purchasing_system", "manual"]


def _day(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


def _rows(rng: random.Random, year: int, n: int) -> list[dict]:
    invoices = [f"F{i}" for i in range(n // 3)] + [""]
    return [
        {
            "posting_date": _day(rng, year),
            "supplier_id": rng.choice(SUPPLIERS),
            "invoice_no": rng.choice(invoices),
            "category_code": rng.choice(CODES),
            "account": rng.choice(["4000", "4000", "4000", "9000"]),
            "cost_centre": "CC1",
            "order_channel": rng.choice(CHANNELS),
            "amount": Decimal(rng.randrange(-50_000, 500_000)) / 100,
        }
        for _ in range(n)
    ]


def _world(rng: random.Random, regions: dict[str, Region]) -> None:
    sd.tree()
    reference = strategy_load().strategy
    strategy_copy(
        source=reference,
        name="Prøvestrategi",
        code="PROP-2027",
        start_year=2024,
        end_year=2027,
        baseline_year=2024,
    )
    rm, rsd, rh = regions["RM"], regions["RSD"], regions["RH"]
    joint = TenderCase.objects.create(
        reference="J1",
        title="Fælles",
        category=sd.category("33141110"),
        area=TenderCase.Area.GOODS_SERVICES,
        lead_region=rh,
        status=TenderCase.Status.IN_CONTRACT,
    )
    for region in (rm, rsd):
        Participation.objects.create(tender=joint, region=region, status=Participation.Status.FULL)
    alone = TenderCase.objects.create(
        reference="A1",
        title="Alene",
        category=sd.category("85100000"),
        area=TenderCase.Area.GOODS_SERVICES,
        lead_region=rm,
        status=TenderCase.Status.IN_CONTRACT,
    )
    for _ in range(8):
        region = rng.choice([rm, rsd])
        start = _day(rng, rng.choice([2024, 2025]))
        contract = sd.contract(
            region,
            rng.choice(SUPPLIERS),
            start,
            start + dt.timedelta(days=rng.randrange(20, 400)),
            code=rng.choice(CONTRACT_CODES),
            extended_until=(
                start + dt.timedelta(days=rng.randrange(400, 500)) if rng.random() < 0.3 else None
            ),
        )
        contract.tender = rng.choice([joint, joint, alone, None])
        contract.save()
    ExclusionRule.objects.create(
        region=None, kind=ExclusionRule.Kind.ACCOUNT_RANGE, account_from="9000", reason="Amgros"
    )
    MappingRule.objects.create(
        region=rm,
        kind=MappingRule.Kind.SUPPLIER,
        supplier_id=rng.choice(SUPPLIERS),
        category=sd.category("30190000"),
    )
    for region in (rm, rsd):
        for year in (2024, 2025):
            sd.lines(sd.batch(region, year=year), *_rows(rng, year, rng.randrange(20, 60)))
        matching.lines_map(region=region)
        matching.lines_match(region=region)


def _facts_table() -> tuple[list, list, list]:
    def rows(model, fields):
        return sorted(model.objects.values_list(*fields))

    return (
        rows(
            LedgerMonthFact,
            [
                "batch_id",
                "month",
                "kind",
                "channel",
                "supplier_matched",
                "category_matched",
                "covered",
                "lines",
                "amount",
            ],
        ),
        rows(LedgerSupplierMonthFact, ["batch_id", "month", "supplier_id", "amount"]),
        rows(
            LedgerTransactionFact,
            ["region_id", "period_kind", "period", "supplier_id", "transactions", "e_orders"],
        ),
    )


def _switch_in(region, year, period, rng) -> ImportBatch:
    """An import's last step: a loaded batch made current for ``period``."""
    batch = sd.batch(region, current=False, year=year, status=ImportBatch.Status.RUNNING)
    start, end = period
    rows = _rows(rng, year, 30)
    for row in rows:
        row["posting_date"] = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
    sd.lines(batch, *rows)
    total = sum((row["amount"] for row in rows), Decimal("0.00"))
    pipeline._switch_in(batch, period=period, rows=len(rows), total=total)
    return batch


@pytest.mark.parametrize("seed", range(5))
def test_every_figure_from_the_facts_equals_the_line_level_computation(seed, regions, monkeypatch):
    # the top-3 instead of the top-100, so that six suppliers are ranked and cut
    monkeypatch.setattr(services, "TOP_SUPPLIERS", 3)
    rng = random.Random(seed)
    _world(rng, regions)
    rm, rsd = regions["RM"], regions["RSD"]
    assert LedgerMonthFact.objects.exists() and LedgerTransactionFact.objects.exists()
    assert facts.compare_with_lines() == []
    assert facts.compare_with_lines(region=rm, year=2025) == []

    # an import trims RM's 2025 batch in mid-month, another replaces RSD's 2024 whole
    _switch_in(rm, 2025, (dt.date(2025, 3, 10), dt.date(2025, 6, 20)), rng)
    _switch_in(rsd, 2024, (dt.date(2024, 1, 1), dt.date(2024, 12, 31)), rng)
    assert facts.compare_with_lines() == []
    maintained = _facts_table()
    facts.rebuild()
    assert _facts_table() == maintained

    # a new contract, mid-month, with a joint tender: re-matching keeps the facts right
    sd.contract(rm, SUPPLIERS[seed], dt.date(2025, 2, 14), dt.date(2025, 9, 3), code="33000000")
    matching.contracts_changed(rm)
    assert facts.compare_with_lines() == []


def test_a_run_reads_the_facts_and_a_rebuild_repairs_them(regions):
    """Figures follow the facts: emptied facts give no spend until rebuild_kpi_facts."""
    sd.tree()
    rm = regions["RM"]
    batch = sd.batch(rm, year=2025)
    sd.lines(
        batch,
        {"amount": "1000.00", "category_code": "33141110", "posting_date": dt.date(2025, 3, 3)},
        {"amount": "250.50", "category_code": "85100000", "posting_date": dt.date(2025, 4, 4)},
    )
    matching.lines_map(region=rm)
    matching.lines_match(region=rm)

    def spend() -> Decimal | None:
        run = kpi_recompute(region=rm, year=2025)
        return (run.snapshots.get(key="addressable_spend", region=rm, period_kind="year")).value

    assert spend() == Decimal("1250.50")
    LedgerMonthFact.objects.all().delete()
    assert spend() is None or spend() == Decimal("0.00")
    out = StringIO()
    call_command("rebuild_kpi_facts", "--check", stdout=out)
    assert "2 month facts" in out.getvalue()
    assert "equals the line-level computation" in out.getvalue()
    assert spend() == Decimal("1250.50")
