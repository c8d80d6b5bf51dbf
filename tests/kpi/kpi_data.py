"""The hand-made KPI fixture: a few lines, contracts, tenders and savings, every answer by hand.

Strategies: the reference 2015–2020 (baseline 2014) and a successor "Teststrategi
2021–2027" (TEST-2027) with the same targets and, here, the baseline year 2014 too.

Region Midtjylland (RM) bought in 2014 (the strategy's baseline year) and 2025; Region
Syddanmark (RSD) sent a 2025 extract without an ordering-channel column; the other three
regions sent nothing. The expected figures are worked out in tests/kpi/test_compute.py.

RM's contracts (all from the tender plan):
  C1 supplier 11111111, CPV 33140000 (prefix 3314), 01-01-2025 – 31-03-2025, extended
     until 30-06-2025; from T2 (joint: lead RH + RM's exercised option)
  C2 supplier 22222222, CPV 85000000 (prefix 85), 01-02-2025 – 31-12-2025; from T1 (joint)
  C3 supplier 33333333, CPV 30190000 (prefix 3019), 01-04-2025 – 31-12-2025; from T3
     (not joint: RM's option was never exercised, so only the lead RSD takes part)

RM's 2025 lines (kind from the CPV division; e = e-order, ps = purchasing system, m = manual):
  L1  01-01-2025 111 A1  33141110 goods        1000 e   C1 starts that day
  L2  30-06-2025 111 A2  33141110 goods         500 m   last day of C1's extension
  L3  01-07-2025 111 A3  33141110 goods         300 m   the day after: no contract
  L4  01-07-2025 111 A3  33141110 goods        -100 m   credit note on the same invoice
  L5  15-03-2025 222 B1  85100000 services     2000 ps  C2
  L6  31-01-2025 222 B2  85100000 services      400 m   the day before C2 starts
  L7  10-05-2025 333 C1  33141110 goods         800 ps  C3 is for 3019…: supplier only
  L8  10-05-2025 444 D1  (none)   unclassified  700 e
  L9  01-08-2025 444 D2  45000000 works        1000 m
  L10 01-09-2025 555 E1  33141110 goods         -50 m   a lone credit note
  L11 01-05-2025 666 X1  33600000 (account 9000: excluded by a rule) 5000 m
RM's 2014 lines (all in March 2014, no contracts then): five invoices of 100 from five
suppliers, and one lone credit note of -20.
RSD's 2025 lines (no channel column): one goods line of 2000 at 77777777 (no contract).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from kpi.services import strategy_copy, strategy_load
from rfi.models import PartnerBody, Region
from rfi.services import collaboration_load
from spend import matching
from spend.models import ExclusionRule
from tenders.models import Participation, SavingsMethod, SavingsRecord, TenderCase
from tests.spend import spend_data as sd

D = dt.date
E, PS, M = "e_order", "purchasing_system", "manual"


@dataclass
class World:
    regions: dict[str, Region]
    tenders: dict[str, TenderCase]


def _tender(ref: str, *, lead=None, partner=None, code: str, **fields) -> TenderCase:
    return TenderCase.objects.create(
        reference=ref,
        title=f"Udbud {ref}",
        category=sd.category(code),
        area=TenderCase.Area.GOODS_SERVICES,
        lead_region=lead,
        lead_partner=partner,
        **fields,
    )


def _take_part(tender: TenderCase, region: Region, status: str, **fields) -> None:
    Participation.objects.update_or_create(
        tender=tender, region=region, defaults={"status": status, **fields}
    )


def _saving(tender, region, baseline, new, method, **fields) -> None:
    SavingsRecord.objects.create(
        tender=tender,
        region=region,
        baseline_annual_cost=Decimal(baseline),
        new_annual_cost=Decimal(new),
        method=method,
        **fields,
    )


def build(*, with_strategy: bool = True) -> World:
    collaboration_load(path=settings.COLLABORATION_FILE)
    regions = {r.code: r for r in Region.objects.all()}
    rm, rsd, rh, rsj, rn = (regions[c] for c in ("RM", "RSD", "RH", "RSJ", "RN"))
    amgros = PartnerBody.objects.get(code="AMGROS")
    if with_strategy:
        reference = strategy_load().strategy
        # 2025 is judged by the strategy in force in 2025 (the 2015–2020 one has expired):
        # a successor with the reference targets and, for the hand-worked spot-purchase
        # figures, the baseline year 2014.
        strategy_copy(
            source=reference,
            name="Teststrategi 2021–2027",
            code="TEST-2027",
            start_year=2021,
            end_year=2027,
            baseline_year=2014,
        )
    sd.tree()
    sd.category("33600000")

    full, option, out = (
        Participation.Status.FULL,
        Participation.Status.OPTION,
        Participation.Status.OPTED_OUT,
    )
    framework, one_off = TenderCase.Kind.FRAMEWORK, TenderCase.Kind.ONE_OFF
    in_contract = TenderCase.Status.IN_CONTRACT
    t1 = _tender(
        "T1",
        lead=rm,
        code="85100000",
        kind=framework,
        has_options=True,
        status=in_contract,
        publication_date=D(2015, 3, 1),
        award_date=D(2025, 1, 15),
        contract_start=D(2025, 2, 1),
        contract_end=D(2025, 12, 31),
    )
    _take_part(t1, rsd, full)
    _take_part(t1, rh, out, justification="Egen aftale til 2027.")
    t2 = _tender(
        "T2",
        lead=rh,
        code="33140000",
        kind=framework,
        has_options=False,
        status=in_contract,
        publication_date=D(2016, 5, 1),
        award_date=D(2025, 3, 1),
        contract_start=D(2025, 1, 1),
        contract_end=D(2026, 12, 31),
    )
    _take_part(t2, rm, option, option_exercised_on=D(2024, 6, 1))
    t3 = _tender(
        "T3",
        lead=rsd,
        code="30190000",
        kind=framework,
        has_options=True,
        status=in_contract,
        publication_date=D(2017, 1, 1),
        award_date=D(2025, 4, 1),
    )
    _take_part(t3, rm, option)  # never exercised
    t4 = _tender(
        "T4",
        partner=amgros,
        code="33600000",
        kind=framework,
        has_options=True,
        status=in_contract,
        publication_date=D(2018, 1, 1),
        award_date=D(2025, 5, 1),
    )
    _take_part(t4, rm, full)
    _take_part(t4, rsd, full)
    t5 = _tender(
        "T5",
        lead=rm,
        code="85000000",
        kind=one_off,
        status=TenderCase.Status.PLANNED,
        expected_tender_start=D(2025, 9, 1),
    )
    _take_part(t5, rsj, full)
    _take_part(t5, rn, full)
    t6 = _tender(
        "T6",
        lead=rh,
        code="85000000",
        kind=framework,
        has_options=True,
        status=TenderCase.Status.CANCELLED,
        publication_date=D(2019, 1, 1),
    )
    _take_part(t6, rm, full)

    method, _ = SavingsMethod.objects.get_or_create(
        code="kpi-test", defaults={"label_da": "Pris før og efter"}
    )
    _saving(
        t1, rm, "1000", "800", method, contract_start=D(2025, 2, 1), contract_end=D(2025, 12, 31)
    )
    _saving(t1, rsd, "3000", "2700", method)  # no dates: the tender's contract period
    _saving(t2, rh, "2000", "1600", method, contract_start=D(2025, 4, 1))
    _saving(t3, rsd, "1000", "500", method, contract_start=D(2025, 6, 1))
    _saving(t4, rm, "9000", "1000", method, contract_start=D(2025, 1, 1))

    c1 = sd.contract(
        rm,
        "11111111",
        D(2025, 1, 1),
        D(2025, 3, 31),
        code="33140000",
        extended_until=D(2025, 6, 30),
    )
    c2 = sd.contract(rm, "22222222", D(2025, 2, 1), D(2025, 12, 31), code="85000000")
    c3 = sd.contract(rm, "33333333", D(2025, 4, 1), D(2025, 12, 31), code="30190000")
    for contract, tender in ((c1, t2), (c2, t1), (c3, t3)):
        contract.tender = tender
        contract.save()

    ExclusionRule.objects.create(
        region=None,
        kind=ExclusionRule.Kind.ACCOUNT_RANGE,
        account_from="9000",
        reason="Medicin via Amgros",
    )

    def row(day, supplier, invoice, code, amount, channel, account="4000"):
        return {
            "posting_date": day,
            "supplier_id": supplier,
            "invoice_no": invoice,
            "category_code": code,
            "amount": Decimal(amount),
            "order_channel": channel,
            "account": account,
        }

    rm_2025 = sd.batch(rm, year=2025)
    sd.lines(
        rm_2025,
        row(D(2025, 1, 1), "11111111", "A1", "33141110", "1000", E),
        row(D(2025, 6, 30), "11111111", "A2", "33141110", "500", M),
        row(D(2025, 7, 1), "11111111", "A3", "33141110", "300", M),
        row(D(2025, 7, 1), "11111111", "A3", "33141110", "-100", M),
        row(D(2025, 3, 15), "22222222", "B1", "85100000", "2000", PS),
        row(D(2025, 1, 31), "22222222", "B2", "85100000", "400", M),
        row(D(2025, 5, 10), "33333333", "C1", "33141110", "800", PS),
        row(D(2025, 5, 10), "44444444", "D1", "", "700", E),
        row(D(2025, 8, 1), "44444444", "D2", "45000000", "1000", M),
        row(D(2025, 9, 1), "55555555", "E1", "33141110", "-50", M),
        row(D(2025, 5, 1), "66666666", "X1", "33600000", "5000", M, account="9000"),
    )
    rm_2014 = sd.batch(rm, year=2014)
    sd.lines(
        rm_2014,
        *[row(D(2014, 3, 10), f"9000000{i}", f"G{i}", "33141110", "100", M) for i in range(1, 6)],
        row(D(2014, 3, 20), "90000001", "G9", "33141110", "-20", M),
    )
    rsd_2025 = sd.batch(rsd, year=2025)
    sd.lines(rsd_2025, row(D(2025, 4, 4), "77777777", "R1", "33141110", "2000", ""))

    for region in (rm, rsd):
        matching.lines_map(region=region)
        matching.lines_match(region=region)
    return World(regions=regions, tenders={t.reference: t for t in (t1, t2, t3, t4, t5, t6)})
