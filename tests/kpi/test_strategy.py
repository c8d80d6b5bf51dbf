"""Issue 13 §1: each year is judged by the strategy in force that year; a year outside every
strategy has figures but no target and no verdict; the secretariat copies a strategy.

The figures (snapshots written directly, as the dashboards read nothing else):

Strategy A "Strategi 2015–2020" (A-2020), baseline 2014: compliance ≥ 0.95,
  contract_coverage_goods ≥ 0.80; two activities (due 31-12-2016 and 31-12-2020).
Strategy B "Strategi 2021–2027" (B-2027), baseline 2020: compliance ≥ 0.90.
RM's compliance is 0.93 in 2014, 2018 and 2025:
  2014: no strategy                → no target, no verdict ("No strategy for 2014")
  2018: A, 0.93 < 0.95             → off track
  2025: B, 0.93 ≥ 0.90             → on track
RM's contract_coverage_goods 2025 is 0.85: B sets no target for it → "No target".
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kpi import dashboard, selectors, services
from kpi.models import KpiRun, KpiSnapshot, Strategy, StrategyActivity, StrategyTarget
from kpi.services import kpi_recompute
from rfi.models import Region
from rfi.services import collaboration_load
from tests.conftest import client_for
from tests.kpi import kpi_data
from tests.kpi.dashboard_data import snapshot

pytestmark = pytest.mark.django_db


def _strategy(code, name, first, last, baseline, targets) -> Strategy:
    strategy = Strategy.objects.create(
        code=code, name=name, start_year=first, end_year=last, baseline_year=baseline
    )
    for key, value in targets.items():
        StrategyTarget.objects.create(
            strategy=strategy, key=key, value=Decimal(value), unit="ratio"
        )
    return strategy


@pytest.fixture
def world(db):
    collaboration_load(path=settings.COLLABORATION_FILE)
    rm = Region.objects.get(code="RM")
    a = _strategy(
        "A-2020",
        "Strategi 2015–2020",
        2015,
        2020,
        2014,
        {"compliance": "0.95", "contract_coverage_goods": "0.80"},
    )
    StrategyActivity.objects.create(
        strategy=a, position=1, title="KPI-håndbog", due_date=dt.date(2016, 12, 31)
    )
    StrategyActivity.objects.create(
        strategy=a,
        position=2,
        title="Fælles temadage",
        responsible_region=rm,
        due_date=dt.date(2020, 12, 31),
        status=StrategyActivity.Status.DONE,
        note="Holdt hvert år",
    )
    b = _strategy("B-2027", "Strategi 2021–2027", 2021, 2027, 2020, {"compliance": "0.90"})
    run = KpiRun.objects.create(status=KpiRun.Status.DONE, finished_at=timezone.now())
    for year in (2014, 2018, 2025):
        snapshot(run, "compliance", rm, year, "0.93")
    snapshot(run, "contract_coverage_goods", rm, 2025, "0.85")
    return {"rm": rm, "a": a, "b": b}


def english(user):
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def card_text(response, key: str) -> str:
    html = response.content.decode()
    match = re.search(rf'<article[^>]*data-testid="kpi-card-{key}".*?</article>', html, re.S)
    assert match, f"no card {key}"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match.group(0))))


def page_text(response) -> str:
    html = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# The strategy in force ---------------------------------------------------------------------


def test_each_year_is_judged_by_the_strategy_in_force(world):
    rm = world["rm"]

    def status(year):
        cards = {c.key: c for c in selectors.cards_for(year=year, region=rm)}
        return dashboard.make_card(cards["compliance"])

    assert selectors.strategy_for_year(2018) == world["a"]
    assert selectors.strategy_for_year(2025) == world["b"]
    assert status(2018).status == "off"  # 0.93 < 0.95 (A)
    assert status(2018).target_value == Decimal("0.95")
    assert status(2025).status == "on"  # 0.93 ≥ 0.90 (B), though < 0.95 (A)


def test_a_year_outside_every_strategy_has_no_target_and_no_verdict(world):
    rm = world["rm"]

    assert selectors.strategy_for_year(2014) is None
    assert selectors.strategy_for_year(2028) is None  # B has ended: it judges no later year
    cards = {c.key: c for c in selectors.cards_for(year=2014, region=rm)}
    compliance = dashboard.make_card(cards["compliance"])
    assert compliance.value == Decimal("0.93")
    assert (compliance.status, compliance.target_value) == ("none", None)
    assert compliance.status_icon == "–"


def test_the_dashboard_says_ingen_strategi_and_shows_no_cross(world, chief):
    response = client_for(chief).get(reverse("kpi:index"), {"region": "RM", "year": 2014})

    assert response.status_code == 200
    compliance = card_text(response, "compliance")
    assert "93,0" in compliance
    assert "Ingen strategi for 2014" in compliance
    assert "✗" not in compliance
    assert "Ingen strategi for 2014" in page_text(response)


def test_the_dashboard_judges_2018_by_the_2015_2020_strategy(world, chief):
    response = english(chief).get(reverse("kpi:index"), {"region": "RM", "year": 2018})

    compliance = card_text(response, "compliance")
    assert "≥ 95.0" in compliance and "Off track" in compliance
    assert "Targets of the strategy Strategi 2015–2020 (2015–2020)" in page_text(response)


def test_the_collaboration_dashboard_outside_a_strategy_counts_no_targets(world, chief):
    response = english(chief).get(reverse("kpi:collaboration"), {"year": 2014})

    text = page_text(response)
    assert "No strategy for 2014: no targets to measure against." in text
    assert "targets met" not in text


def test_the_monthly_report_outside_a_strategy(world, chief):
    rm = world["rm"]
    run = KpiRun.objects.get()
    snapshot(run, "compliance", rm, 2014, "0.93", month=3)

    response = english(chief).get(reverse("kpi:report"), {"region": "RM", "month": "2014-03"})

    text = page_text(response)
    assert "No strategy for 2014" in text
    assert "Off track" not in text


def test_the_export_names_the_strategy_in_force_or_none(world, chief):
    def first_sheet(year):
        response = english(chief).get(reverse("kpi:export"), {"region": "RM", "year": year})
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        return [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]

    assert "Targets of the strategy Strategi 2021–2027 (B-2027, 2021–2027)." in first_sheet(2025)
    cells_2014 = first_sheet(2014)
    assert any(c.startswith("No strategy for 2014") for c in cells_2014)
    assert "Off track" not in cells_2014


# kpi_report and the API ----------------------------------------------------------------------


def _report(year: int) -> list[dict]:
    out = io.StringIO()
    call_command("kpi_report", "--year", str(year), stdout=out)
    return json.loads(out.getvalue())


def test_kpi_report_names_the_strategy_and_nulls_the_target_outside_one(world):
    rows_2025 = {r["key"]: r for r in _report(2025)}
    assert rows_2025["compliance"]["target"] == 0.9
    assert rows_2025["compliance"]["strategy"] == "B-2027"
    # B sets no target for coverage: null, but the strategy is still named.
    assert rows_2025["contract_coverage_goods"]["target"] is None
    assert rows_2025["contract_coverage_goods"]["strategy"] == "B-2027"

    assert _report(2018)[0] == {
        "key": "compliance",
        "region": "RM",
        "period": "2018",
        "value": 0.93,
        "target": 0.95,
        "unit": "ratio",
        "available": True,
        "reason": "",
        "strategy": "A-2020",
    }
    (row_2014,) = _report(2014)
    assert (row_2014["value"], row_2014["target"], row_2014["strategy"]) == (0.93, None, None)


def test_the_api_gives_each_figure_the_strategy_of_its_year(world, chief):
    response = client_for(chief).get(reverse("kpisnapshot-list"), {"key": "compliance"})

    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    by_period = {r["period"]: r for r in rows}
    assert (by_period["2014"]["strategy"], by_period["2014"]["target"]) == (None, None)
    assert by_period["2014"]["on_track"] is None
    assert by_period["2018"]["strategy"] == "A-2020"
    assert (by_period["2018"]["target"], by_period["2018"]["on_track"]) == ("0.95", False)
    assert (by_period["2025"]["target"], by_period["2025"]["on_track"]) == ("0.9", True)


# Recomputing: the baseline of the strategy in force ------------------------------------------


def test_spot_purchase_reduction_outside_every_strategy_is_not_available():
    # Only 2015–2020 is entered: 2025 (RM: 4 spot purchases) has no baseline year. Before
    # issue 13 the expired strategy's baseline 2014 (5) gave 1 - 4/5 = 0.2.
    kpi_data.build(with_strategy=False)
    services.strategy_load()

    kpi_recompute()

    reduction = KpiSnapshot.objects.get(
        is_current=True, key="spot_purchase_reduction", region__code="RM", period_label="2025"
    )
    assert not reduction.available
    assert reduction.reason == (
        "No strategy is in force in 2025, so there is no baseline year or period."
    )


# Copying a strategy ----------------------------------------------------------------------------


def test_copy_a_strategy_with_its_targets_and_activities(world):
    new = services.strategy_copy(
        source=world["a"],
        name="Strategi 2028–2033",
        code="C-2033",
        start_year=2028,
        end_year=2033,
        baseline_year=2027,
    )

    assert new.copied_from == world["a"]
    assert {t.key: t.value for t in new.targets.all()} == {
        "compliance": Decimal("0.95"),
        "contract_coverage_goods": Decimal("0.80"),
    }
    activities = list(new.activities.order_by("position"))
    # Due dates move by the difference of the last years (2033 - 2020 = 13); the copies
    # start over: not started, no note; the responsible region is kept.
    assert [(a.title, a.due_date, a.status, a.note) for a in activities] == [
        ("KPI-håndbog", dt.date(2029, 12, 31), "planned", ""),
        ("Fælles temadage", dt.date(2033, 12, 31), "planned", ""),
    ]
    assert activities[1].responsible_region == world["rm"]
    # The source is untouched.
    assert world["a"].activities.get(position=2).status == "done"
    assert selectors.strategy_for_year(2030) == new


def test_a_copy_may_not_overlap_another_strategy(world):
    with pytest.raises(ValidationError) as error:
        services.strategy_copy(
            source=world["b"],
            name="Overlap",
            code="X-2030",
            start_year=2027,
            end_year=2030,
            baseline_year=2026,
        )

    assert "start_year" in error.value.message_dict
    assert not Strategy.objects.filter(code="X-2030").exists()


def test_the_secretariat_creates_a_strategy_by_copy_in_the_ui(world, secretariat):
    client = english(secretariat)

    form = client.get(reverse("kpi:strategy_create"))
    # The form starts from the latest strategy, for the years after it.
    assert form.context["form"].initial == {
        "source": world["b"].pk,
        "start_year": 2028,
        "end_year": 2034,
        "baseline_year": 2027,
    }
    response = client.post(
        reverse("kpi:strategy_create"),
        {
            "source": world["b"].pk,
            "name": "Strategi 2028–2034",
            "code": "RFI-2034",
            "start_year": 2028,
            "end_year": 2034,
            "baseline_year": 2027,
        },
        follow=True,
    )

    new = Strategy.objects.get(code="RFI-2034")
    assert new.copied_from == world["b"]
    assert {t.key: t.value for t in new.targets.all()} == {"compliance": Decimal("0.90")}
    text = page_text(response)
    assert "The strategy Strategi 2028–2034 (2028–2034) was created" in text
    assert "RFI-2034" in text


def test_a_strategy_that_overlaps_is_refused_with_the_reason_on_the_form(world, secretariat):
    response = english(secretariat).post(
        reverse("kpi:strategy_create"),
        {
            "source": world["b"].pk,
            "name": "Overlap",
            "code": "X-2030",
            "start_year": 2026,
            "end_year": 2030,
            "baseline_year": 2025,
        },
    )

    assert response.status_code == 200
    assert "overlaps Strategi 2021–2027" in page_text(response)
    assert not Strategy.objects.filter(code="X-2030").exists()


def test_a_chief_reads_the_strategies_but_may_not_create_one(world, chief):
    page = english(chief).get(reverse("kpi:strategies"))

    text = page_text(page)
    assert "Strategi 2015–2020" in text and "Strategi 2021–2027" in text
    assert "New strategy from a copy" not in text
    assert client_for(chief).get(reverse("kpi:strategy_create")).status_code == 403


# The demo ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_seed_demo_adds_a_marked_successor_so_the_demo_dashboards_show_verdicts():
    call_command(
        "seed_demo", "--ledger-rows", "300", "--password", "x-demo-1", stdout=io.StringIO()
    )

    today = timezone.localdate()
    reference = Strategy.objects.get(code="RFI-2020")
    demo = Strategy.objects.get(code=services.DEMO_STRATEGY_CODE)
    assert demo.name.startswith("Demo: strategi 2021–")
    assert demo.copied_from == reference
    # The demo ledger covers the last two full years and this year: the first is the baseline.
    assert (demo.start_year, demo.baseline_year) == (2021, today.year - 2)
    assert demo.covers(today.year) and demo.covers(today.year - 1)
    assert demo.targets.count() == reference.targets.count()
    reduction = KpiSnapshot.objects.get(
        is_current=True,
        key="spot_purchase_reduction",
        region__code="RM",
        period_label=str(today.year - 1),
    )
    assert reduction.available, reduction.reason
    cards = selectors.cards_for(year=today.year - 1, region=Region.objects.get(code="RM"))
    verdicts = [c.on_track for c in cards if c.target is not None and c.available]
    assert verdicts and all(v in (True, False) for v in verdicts)
    # seed_reference alone has only 2015–2020.
    assert reference.covers(2020) and not reference.covers(2021)


def test_a_taken_code_an_overlap_and_a_bad_year_are_shown_together(world, secretariat):
    response = english(secretariat).post(
        reverse("kpi:strategy_create"),
        {
            "source": world["b"].pk,
            "name": "Overlap",
            "code": world["b"].code,
            "start_year": 2026,
            "end_year": 2030,
            "baseline_year": "tjue",
        },
    )

    errors = response.context["form"].errors
    assert {"code", "baseline_year"} <= set(errors)
    assert "overlaps Strategi 2021–2027" in page_text(response)
    assert Strategy.objects.count() == 2
