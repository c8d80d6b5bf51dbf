"""annual_savings counts new, awarded savings from the strategy's start (KPI.md); the
average price reduction counts awarded records only. Figures worked by hand below."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from kpi.models import KpiSnapshot, Strategy
from kpi.services import kpi_recompute
from tenders.models import Participation, SavingsMethod, SavingsRecord, TenderCase

pytestmark = pytest.mark.django_db

D = dt.date
M = Decimal


def _record(region, baseline, new, method, **fields) -> SavingsRecord:
    return SavingsRecord.objects.create(
        region=region,
        baseline_annual_cost=M(baseline),
        new_annual_cost=M(new),
        method=method,
        **fields,
    )


@pytest.fixture
def book(regions, category_33):
    rm, rsd = regions["RM"], regions["RSD"]
    Strategy.objects.create(
        name="Strategi 2021-2027", code="s-2027", start_year=2021, end_year=2027, baseline_year=2019
    )
    method = SavingsMethod.objects.create(code="price", label_da="Pris")
    old = TenderCase.objects.create(
        reference="FUP-2019-001",
        title="Old",
        category=category_33,
        area=TenderCase.Area.GOODS_SERVICES,
        lead_region=rm,
        award_date=D(2019, 10, 1),
        contract_start=D(2020, 1, 1),
        contract_end=D(2026, 12, 31),
        status=TenderCase.Status.IN_CONTRACT,
    )
    new = TenderCase.objects.create(
        reference="FUP-2025-001",
        title="New",
        category=category_33,
        area=TenderCase.Area.GOODS_SERVICES,
        lead_region=rm,
        award_date=D(2025, 2, 1),
        contract_start=D(2025, 4, 1),
        contract_end=D(2028, 3, 31),
        status=TenderCase.Status.IN_CONTRACT,
    )
    for tender in (old, new):
        Participation.objects.update_or_create(
            tender=tender, region=rsd, defaults={"status": Participation.Status.FULL}
        )
    # Before the strategy (contract from 2020): 1,000 saved, active in 2025, not counted.
    _record(rm, "5000", "4000", method, tender=old)
    # New case, awarded: RM 1,000 → 800 (200), RSD 3,000 → 2,700 (300).
    _record(rm, "1000", "800", method, tender=new)
    _record(rsd, "3000", "2700", method, tender=new)
    # An expected record on the new case (a forecast): 2,000 → 0; never counted.
    _record(rsd, "2000", "0", method, tender=new, stage=SavingsRecord.Stage.EXPECTED)
    # RSD's own contract from 2022: 400 → 350 (50), counted.
    _record(
        rsd,
        "400",
        "350",
        method,
        category=category_33,
        kind=TenderCase.Kind.FRAMEWORK,
        contract_start=D(2022, 6, 1),
    )


def _figure(key: str, year: int) -> KpiSnapshot:
    return KpiSnapshot.objects.get(
        is_current=True, key=key, region__isnull=True, period_label=str(year)
    )


def test_annual_savings_counts_awarded_savings_of_contracts_started_in_the_strategy(book):
    kpi_recompute(year=2025)
    snapshot = _figure("annual_savings", 2025)
    # 200 + 300 (the new case) + 50 (RSD's own) = 550; the 1,000 of the 2020 contract and
    # the 2,000 expected are left out.
    assert snapshot.value == M("550.00")
    assert snapshot.detail["since"] == "2021-01-01"
    assert snapshot.detail["per_region"] == {"RM": "200.00", "RSD": "350.00"}


def test_avg_price_reduction_counts_awarded_records_only(book):
    kpi_recompute(year=2025)
    snapshot = _figure("avg_price_reduction_joint", 2025)
    # The new case (awarded 2025): 500 / 4,000 = 0.125 (with the expected record it would
    # be 2,500 / 6,000).
    assert snapshot.value == M("0.125000")


def test_annual_savings_outside_every_strategy_is_not_available(book):
    with translation.override("en"):
        kpi_recompute(year=2020)
        snapshot = _figure("annual_savings", 2020)
    assert snapshot.value is None
    assert not snapshot.available


def test_only_expected_savings_are_no_savings(regions, category_33):
    Strategy.objects.create(name="S", code="s", start_year=2021, end_year=2027, baseline_year=2019)
    method = SavingsMethod.objects.create(code="price", label_da="Pris")
    tender = TenderCase.objects.create(
        reference="FUP-2025-002",
        title="T",
        category=category_33,
        area=TenderCase.Area.GOODS_SERVICES,
        lead_region=regions["RM"],
        contract_start=D(2025, 1, 1),
    )
    _record(regions["RM"], "100", "0", method, tender=tender, stage=SavingsRecord.Stage.EXPECTED)
    kpi_recompute(year=2025)
    snapshot = _figure("annual_savings", 2025)
    assert snapshot.value is None
    assert snapshot.detail.get("reason_code") == "no_savings"


def test_the_dashboard_card_says_from_when_savings_are_counted(book, secretariat):
    from django.urls import reverse

    from tests.conftest import client_for

    kpi_recompute(year=2025)
    response = client_for(secretariat).get(reverse("kpi:collaboration") + "?year=2025")
    text = response.content.decode()
    assert response.status_code == 200
    assert "01-01-2021" in text  # contracts started from the strategy's first day
    assert "/fup/besparelser/rapport/years/?year=2025" in text
