"""Strategies as data (seed_reference), targets, and the selectors the dashboards read."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import translation

from kpi import selectors
from kpi.models import Strategy, StrategyTarget
from kpi.services import kpi_recompute, strategy_load
from tests.kpi import kpi_data

pytestmark = pytest.mark.django_db


def test_seed_reference_loads_the_2015_2020_strategy_with_the_targets_of_kpi_md():
    call_command("seed_reference", stdout=io.StringIO())

    strategy = Strategy.objects.get()
    assert (strategy.start_year, strategy.end_year, strategy.baseline_year) == (2015, 2020, 2014)
    assert strategy.code == "RFI-2020"
    targets = {t.key: (t.comparison, t.value) for t in strategy.targets.all()}
    assert targets == {
        "contract_coverage_goods": ("gte", Decimal("0.8")),
        "contract_coverage_services": ("gte", Decimal("0.75")),
        "compliance": ("gte", Decimal("0.95")),
        "spot_purchase_reduction": ("gte", Decimal("0.1")),
        "digital_order_share_top100": ("gte", Decimal("0.95")),
        "purchasing_system_share_goods": ("gte", Decimal("0.95")),
        "joint_agreement_spend": ("gte", Decimal("2000000000")),
        "avg_price_reduction_joint": ("gte", Decimal("0.15")),
        "joint_service_tenders": ("gte", Decimal("8")),
        "annual_savings": ("gte", Decimal("1000000000")),
        "frameworks_with_options_share": ("gte", Decimal("1")),
    }


def test_loading_again_keeps_the_secretariats_edits():
    strategy_load()
    StrategyTarget.objects.filter(key="compliance").update(value=Decimal("0.9"))

    result = strategy_load()

    assert not result.created and result.targets_created == 0
    assert StrategyTarget.objects.get(key="compliance").value == Decimal("0.9")
    assert Strategy.objects.count() == 1


def test_a_share_target_must_be_a_fraction():
    strategy = strategy_load().strategy
    target = StrategyTarget(strategy=strategy, key="compliance", value=95, unit="ratio")

    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            target.clean()

        assert error.value.message_dict["value"] == [
            "A share is a fraction between 0 and 1 (80 % is 0.8)."
        ]


def test_a_newer_strategy_sets_the_targets_of_its_own_years():
    old = strategy_load().strategy
    new = Strategy.objects.create(
        name="Strategi 2025", code="S-2030", start_year=2025, end_year=2030, baseline_year=2024
    )
    StrategyTarget.objects.create(strategy=new, key="compliance", value="0.97", unit="ratio")

    assert selectors.strategy_for_year(2018) == old
    assert selectors.strategy_for_year(2026) == new
    assert selectors.targets_for_year(2026)["compliance"].value == Decimal("0.97")
    # after the last strategy's end no strategy applies: no targets (issue 13 §1)
    assert selectors.strategy_for_year(2040) is None
    assert selectors.targets_for_year(2040) == {}


def test_cards_show_value_target_track_and_change_from_last_year():
    world = kpi_data.build()
    kpi_recompute()

    cards = {c.key: c for c in selectors.cards_for(year=2025, region=world.regions["RM"])}

    coverage = cards["contract_coverage_goods"]
    assert coverage.value == Decimal("0.938776")
    assert coverage.target.value == Decimal("0.8")
    assert coverage.on_track is True
    assert cards["compliance"].on_track is False  # 0.81 < 0.95
    # spot purchases: 4 in 2025; 2024 had no lines, so no change to show
    assert cards["spot_purchases"].change is None
    assert cards["addressable_spend"].on_track is None  # no target
    rsd = {c.key: c for c in selectors.cards_for(year=2025, region=world.regions["RSD"])}
    assert not rsd["digital_order_share_top100"].available
    assert "ordering-channel" in rsd["digital_order_share_top100"].reason
    collaboration = {c.key for c in selectors.cards_for(year=2025, region=None)}
    assert "joint_agreement_spend" in collaboration
    assert "participation_per_region" not in collaboration
    assert selectors.years_available()[0] == 2025
