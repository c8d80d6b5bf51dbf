"""Every KPI of KPI.md on the hand-made fixture (tests/kpi/kpi_data.py), worked out by hand.

The fixture is built and recomputed once for the module; each test reads the stored
snapshots through the selectors, as the dashboards and the report do.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kpi import compute, definitions, selectors
from kpi.models import KpiSnapshot
from kpi.services import kpi_recompute
from tests.conftest import kept_for_module
from tests.kpi import kpi_data

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with kept_for_module(django_db_blocker):
        with django_db_blocker.unblock():
            built = kpi_data.build()
            run = kpi_recompute()
        yield built, run


def figure(key: str, region: str | None, period: str) -> KpiSnapshot:
    """The current snapshot of key × region code (None: collaboration) × period label."""
    qs = KpiSnapshot.objects.filter(is_current=True, key=key, period_label=period)
    qs = qs.filter(region__code=region) if region else qs.filter(region__isnull=True)
    snapshots = list(qs)
    assert len(snapshots) == 1, f"{key} {region} {period}: {len(snapshots)} current snapshots"
    return snapshots[0]


def value(key: str, region: str | None, period: str) -> Decimal:
    snapshot = figure(key, region, period)
    assert snapshot.available, f"{key} {region} {period}: {snapshot.reason}"
    return snapshot.value


def reason(key: str, region: str | None, period: str) -> str:
    snapshot = figure(key, region, period)
    assert not snapshot.available, f"{key} {region} {period} = {snapshot.value}"
    assert snapshot.value is None
    return snapshot.reason


# Per region, RM 2025 -----------------------------------------------------------------------


def test_addressable_spend_nets_credit_notes_and_leaves_out_excluded_lines(world):
    # L1..L10: 1000 + 500 + 300 - 100 + 2000 + 400 + 800 + 700 + 1000 - 50 = 6550;
    # L11 (5000 on account 9000) is excluded by the rule.
    assert value("addressable_spend", "RM", "2025") == Decimal("6550.00")
    assert figure("addressable_spend", "RM", "2025").detail["excluded_lines"] == 1


def test_contract_coverage_goods_counts_start_day_and_extension_end_day(world):
    # Goods: L1 1000 + L2 500 + L3 300 + L4 -100 + L7 800 + L10 -50 = 2450.
    # Supplier-matched: L1 (C1's first day), L2 (last day of C1's extension), L7 (C3)
    # = 2300; L3/L4 fall the day after the extension. 2300 / 2450 = 0.938776.
    assert value("contract_coverage_goods", "RM", "2025") == Decimal("0.938776")


def test_contract_coverage_services_leaves_out_the_day_before_the_contract(world):
    # Services: L5 2000 + L6 400 = 2400; L6 is the day before C2 starts. 2000/2400.
    assert value("contract_coverage_services", "RM", "2025") == Decimal("0.833333")


def test_contract_loyalty_needs_the_contract_category_to_cover_the_line(world):
    # Goods category-matched: L1 + L2 = 1500 (C3 is for 3019…, L7 is 33141110).
    # 1500 / 2450 = 0.612245. Services: L5's 85100000 is under C2's 85 → 2000 / 2400.
    assert value("contract_loyalty_goods", "RM", "2025") == Decimal("0.612245")
    assert value("contract_loyalty_services", "RM", "2025") == Decimal("0.833333")


def test_compliance_is_category_matched_of_spend_in_covered_categories(world):
    # Covered (a contract of RM covering the category on the date, any supplier):
    # L1, L2 and L7 (C1 covers 3314… until 30-06) and L5 (C2) = 1000+500+800+2000 = 4300.
    # Of it category-matched: L1 + L2 + L5 = 3500. 3500 / 4300 = 0.813953.
    assert value("compliance", "RM", "2025") == Decimal("0.813953")


def test_unclassified_share(world):
    # L8 (no code, no rule) 700 of 6550 addressable = 0.106870; works (L9) is classified.
    assert value("unclassified_share", "RM", "2025") == Decimal("0.106870")


def test_spot_purchases_are_positive_transactions_without_a_contract(world):
    # Transactions (supplier, invoice): A1 A2 B1 C1 matched; A3 (300 - 100 = 200), B2 400,
    # D1 700, D2 1000 not matched and positive → 4; E1 (-50) is not a purchase; X1 is
    # excluded. 9 transactions in all.
    assert value("spot_purchases", "RM", "2025") == 4
    assert figure("spot_purchases", "RM", "2025").detail["transactions"] == 9


def test_spot_purchase_reduction_against_the_baseline_year(world):
    # Baseline 2014 (the fixture's 2021–2027 strategy): five invoices of 100 at suppliers without a
    # contract, and a lone credit note (not a purchase) → 5. 1 - 4/5 = 0.2.
    assert value("spot_purchase_reduction", "RM", "2025") == Decimal("0.200000")
    # A quarter compares with the same quarter of the baseline year: 2025-Q1 has B2 only
    # (A1, B1 are matched); 2014-Q1 has the five → 1 - 1/5 = 0.8.
    assert value("spot_purchase_reduction", "RM", "2025-Q1") == Decimal("0.800000")
    # 2014-Q2 has no lines at all: not available, not 0.
    assert "baseline period 2014-Q2" in reason("spot_purchase_reduction", "RM", "2025-Q2")


def test_spot_purchase_reduction_without_a_baseline_year_is_not_available(world):
    assert reason("spot_purchase_reduction", "RSD", "2025") == (
        "No ledger lines for RSD in the baseline period 2014."
    )


def test_digital_order_share_counts_transactions_ordered_by_e_order(world):
    # Five suppliers, all among the top 100; e-order transactions: A1 and D1 → 2 of 9.
    assert value("digital_order_share_top100", "RM", "2025") == Decimal("0.222222")


def test_digital_order_share_takes_only_the_top_suppliers(world, monkeypatch):
    # By transactions: 111 has 3 (A1 A2 A3), 222 and 444 have 2, 333 and 555 one. The top
    # two are 111 and, on the tie, the lower id 222: A1 A2 A3 B1 B2, of which A1 is an
    # e-order → 1/5.
    compute.build_transactions(compute.LineScope(tuple(b.pk for b in compute.current_batches())))
    figures = compute.transaction_figures("year", top=2)
    compute.drop_temp_tables()
    rm = world[0].regions["RM"].pk
    top = figures[(rm, 2025)]
    assert (top.top_suppliers, top.top_transactions, top.top_e_order) == (2, 5, 1)


def test_purchasing_system_share_goods(world):
    # Goods ordered through the purchasing system or by e-order: L1 (e) 1000 + L7 (ps) 800
    # = 1800 of 2450 = 0.734694.
    assert value("purchasing_system_share_goods", "RM", "2025") == Decimal("0.734694")


def test_a_region_without_order_channels_gets_no_channel_kpis(world):
    # RSD's extract had no ordering-channel column.
    expected = "The ledger extracts of RSD for 2025 have no ordering-channel column."
    assert reason("digital_order_share_top100", "RSD", "2025") == expected
    assert reason("purchasing_system_share_goods", "RSD", "2025") == expected
    # Its other figures are there: 2000 of goods, none under contract (0 is a value).
    assert value("addressable_spend", "RSD", "2025") == Decimal("2000.00")
    assert value("contract_coverage_goods", "RSD", "2025") == 0


def test_no_goods_or_services_lines_means_not_available(world):
    assert reason("contract_coverage_services", "RSD", "2025") == (
        "No services lines for RSD in 2025."
    )
    # RM's third quarter has goods (300 - 100 - 50, none under contract) but no services.
    assert value("contract_coverage_goods", "RM", "2025-Q3") == 0
    assert "No services lines" in reason("contract_coverage_services", "RM", "2025-Q3")


def test_a_region_without_lines_has_every_kpi_not_available(world):
    for key in definitions.REGION_KEYS:
        assert reason(key, "RSJ", "2025") == "No ledger lines for RSJ in 2025."


def test_months_and_quarters(world):
    # January: L1 (1000, C1's first day) and L6 (400, the day before C2).
    assert value("addressable_spend", "RM", "2025-01") == Decimal("1400.00")
    assert value("contract_coverage_goods", "RM", "2025-01") == 1
    assert value("contract_coverage_services", "RM", "2025-01") == 0
    # February: no lines.
    assert reason("addressable_spend", "RM", "2025-02") == "No ledger lines for RM in 2025-02."
    # July: only A3 (300 - 100), after the extension ended.
    assert value("addressable_spend", "RM", "2025-07") == Decimal("200.00")
    assert value("spot_purchases", "RM", "2025-07") == 1
    # Quarter 2: L2 500 + L7 800 + L8 700 (+ excluded L11) = 2000.
    assert value("addressable_spend", "RM", "2025-Q2") == Decimal("2000.00")
    periods = KpiSnapshot.objects.filter(
        is_current=True, key="compliance", region__code="RM", period_start__year=2025
    )
    assert periods.filter(period_kind="month").count() == 12
    assert periods.filter(period_kind="quarter").count() == 4


# Across the collaboration, 2025 ------------------------------------------------------------------


def test_joint_agreement_spend(world):
    # Joint tenders: T1 (RM lead + RSD full), T2 (RH lead + RM's exercised option),
    # T5 and T6 (not started/cancelled, but joint). T3 is RSD alone (RM's option never
    # exercised); T4 is led by Amgros. RM's lines on joint contracts: C1 (T2) L1 + L2 =
    # 1500, C2 (T1) L5 = 2000 → 3500; L7 under C3 (T3) does not count.
    assert value("joint_agreement_spend", None, "2025") == Decimal("3500.00")


def test_average_price_reduction_of_joint_tenders_awarded_in_the_year(world):
    # T1: (200 + 300) / (1000 + 3000) = 0.125; T2: 400 / 2000 = 0.2; mean 0.1625.
    # T3 (not joint) and T4 (Amgros) are left out. Value-weighted: 900 / 6000 = 0.15.
    snapshot = figure("avg_price_reduction_joint", None, "2025")
    assert snapshot.value == Decimal("0.162500")
    assert snapshot.detail["value_weighted"] == "0.150000"


def test_joint_service_tenders_started_in_the_strategy_period(world):
    # Window 2015–2019 (the 2015–2020 strategy, by 2019): T1 (services, published 2015)
    # counts; T2 is goods; T5 is only planned; T6 was cancelled.
    assert value("joint_service_tenders", None, "2019") == 1
    assert value("joint_service_tenders", None, "2016") == 1
    # 2025 is judged by the 2021–2027 strategy: nothing joint was published 2021–2025.
    assert value("joint_service_tenders", None, "2025") == 0
    # 2014 lies outside every strategy.
    assert reason("joint_service_tenders", None, "2014") == (
        "No strategy is in force in 2014, so there is no baseline year or period."
    )


def test_frameworks_with_options_share(world):
    # Joint frameworks started 2015–2019: T1 (options) and T2 (none) → 1/2 (T3 is not
    # joint, T6 was cancelled).
    assert value("frameworks_with_options_share", None, "2019") == Decimal("0.5")
    # By 2015 only T1 had started.
    assert value("frameworks_with_options_share", None, "2015") == 1
    # No joint framework started in the 2021–2027 strategy's years so far.
    assert "No joint framework tender started" in reason(
        "frameworks_with_options_share", None, "2025"
    )


def test_annual_savings_of_records_whose_contract_is_active(world):
    # T1 RM 200 (own dates), T1 RSD 300 (the tender's contract period), T2 RH 400,
    # T3 RSD 500 (from 01-06-2025) = 1400; T4 (Amgros) is left out.
    snapshot = figure("annual_savings", None, "2025")
    assert snapshot.value == Decimal("1400.00")
    assert snapshot.detail["per_region"] == {"RH": "400.00", "RM": "200.00", "RSD": "800.00"}


def test_regions_per_joint_tender_and_participation_per_region(world):
    # In the plan in 2025: T1 {RM, RSD}, T2 {RH, RM}, T5 {RM, RSJ, RN} → 7 / 3.
    assert value("regions_per_joint_tender", None, "2025") == Decimal("2.333333")
    counts = {
        s.region.code: s.value
        for s in selectors.region_comparison(key="participation_per_region", year=2025)
    }
    assert counts == {"RH": 1, "RM": 3, "RN": 1, "RSD": 1, "RSJ": 1}


def test_every_kpi_has_a_figure_or_a_reason_for_every_region(world):
    year_start = dt.date(2025, 1, 1)
    current = KpiSnapshot.objects.filter(
        is_current=True, period_kind="year", period_start=year_start
    )
    for key in definitions.REGION_KEYS:
        assert current.filter(key=key).exclude(region__isnull=True).count() == 5, key
    for key in definitions.COLLABORATION_KEYS:
        assert current.filter(key=key).exists(), key
    assert not current.filter(available=False, reason="").exists()
    assert not current.filter(available=True, value__isnull=True).exists()


def test_each_figure_names_the_batches_it_read(world):
    rm_batches = set(
        world[0].regions["RM"].import_batches.filter(is_current=True).values_list("pk", flat=True)
    )
    batch_ids = set(figure("addressable_spend", "RM", "2025").batch_ids)
    assert batch_ids and batch_ids < rm_batches  # 2025's batch, not 2014's
    assert figure("regions_per_joint_tender", None, "2025").batch_ids == []
