"""The KPI dashboards, the monthly report and the drill-downs, through their URLs.

Figures come from snapshots written by tests/kpi/dashboard_data.py (the dashboards read
nothing else); the drill-downs read ledger lines, from the hand-made world of
tests/kpi/kpi_data.py. Pages are read in English (the language switch's cookie) so the
assertions do not depend on the Danish catalogue.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rfi.models import Category, Membership
from tenders.models import Participation, TenderCase
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.kpi import dashboard_data, kpi_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures(db):
    return dashboard_data.build()


def english(user):
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def text(response) -> str:
    """The page's visible text, tags stripped and whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def card(response, key: str) -> str:
    """The visible text of one KPI card."""
    html = response.content.decode()
    match = re.search(rf'<article[^>]*data-testid="kpi-card-{key}".*?</article>', html, re.S)
    assert match, f"no card {key}"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match.group(0))))


def charts(response) -> dict:
    html = response.content.decode()
    match = re.search(r'<script id="kpi-chart-data" type="application/json">(.*?)</script>', html)
    return json.loads(match.group(1))


# The chief's dashboard -------------------------------------------------------------------------


def test_a_chief_sees_the_cards_of_their_own_region_by_default(figures, chief):
    response = english(chief).get(reverse("kpi:index"), {"year": 2025})

    assert response.status_code == 200
    assert "Central Denmark Region · 2025" in text(response)
    goods = card(response, "contract_coverage_goods")
    assert "82.3 %" in goods
    assert "Target ≥ 80.0 %" in goods
    assert "✓ On track" in goods
    assert "+3.3 percentage points from 2024 (better)" in goods


def test_a_card_off_target_says_so_in_words(figures, chief):
    response = english(chief).get(reverse("kpi:index"), {"year": 2025})

    services = card(response, "contract_coverage_services")
    assert "70.0 %" in services
    assert "✗ Off track" in services
    # lower is better: 120 spot purchases against a target of at most 100
    spot = card(response, "spot_purchases")
    assert "Target ≤ 100" in spot
    assert "Off track" in spot


def test_a_kpi_without_its_inputs_shows_not_available_with_the_reason(figures, chief):
    response = english(chief).get(reverse("kpi:index"), {"year": 2025})

    digital = card(response, "digital_order_share_top100")
    assert (
        "Not available: The ledger extracts of RM for 2025 have no ordering-channel column."
        in digital
    )
    assert "On track" not in digital and "Off track" not in digital
    # a KPI never computed says so too, never 0
    loyalty = card(response, "contract_loyalty_goods")
    assert "Not available: Not computed yet." in loyalty
    assert "0.0 %" not in loyalty


def test_money_and_the_danish_default_are_formatted_for_the_reader(figures, chief):
    response = client_for(chief).get(reverse("kpi:index"), {"year": 2025})  # Danish

    assert "12.345.678 kr." in card(response, "addressable_spend")
    assert "82,3 %" in card(response, "contract_coverage_goods")


def test_each_card_has_a_trend_over_years_and_months_with_its_table(figures, chief):
    response = english(chief).get(reverse("kpi:index"), {"year": 2025})

    data = charts(response)
    years = data["region-contract_coverage_goods-years"]
    assert years["labels"] == ["2024", "2025"]
    assert years["series"][0]["values"] == [79.0, 82.3]
    assert years["series"][1]["target"] is True and years["series"][1]["values"] == [80.0, 80.0]
    months = data["region-contract_coverage_goods-months"]
    assert months["series"][0]["label"] == "2025"
    assert months["series"][0]["values"][:4] == [81.0, 83.0, 85.0, None]
    html = response.content.decode()
    assert 'data-kpi-chart="region-contract_coverage_goods-years"' in html
    assert 'role="img"' in html
    # the accessible alternative: the same figures as a table
    assert "Mar 85.0 %" in card(response, "contract_coverage_goods")


def test_the_regions_side_by_side_for_a_chief(figures, chief):
    response = english(chief).get(
        reverse("kpi:index"), {"year": 2025, "compare": "contract_coverage_goods"}
    )

    page = text(response)
    assert "The regions side by side, 2025" in page
    comparison = charts(response)["comparison"]
    assert comparison["labels"] == ["RH", "▶ RM", "RN", "RSD", "RSJ"]
    assert comparison["series"][0]["values"] == [None, 82.3, None, 85.0, None]


def test_the_page_reads_a_handful_of_queries_whatever_the_data(figures, chief):
    client = english(chief)
    client.get(reverse("kpi:index"))  # warm the session

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("kpi:index"), {"year": 2025})

    assert response.status_code == 200
    assert len(queries) <= 25
    assert not any("spend_ledgerline" in q["sql"] for q in queries.captured_queries)


# Rights -----------------------------------------------------------------------------------------


def test_an_officer_sees_their_own_region_and_no_comparison(figures, officer_rsd):
    response = english(officer_rsd).get(reverse("kpi:index"), {"year": 2025})

    assert response.status_code == 200
    assert "Region of Southern Denmark · 2025" in text(response)
    assert "85.0 %" in card(response, "contract_coverage_goods")
    assert "The regions side by side" not in text(response)
    assert "comparison" not in charts(response)


def test_an_officer_may_not_open_another_regions_dashboard(figures, officer_rsd):
    response = english(officer_rsd).get(reverse("kpi:index"), {"region": "RM", "year": 2025})

    assert response.status_code == 403


def test_a_chief_may_open_another_regions_cards_but_not_its_lines(figures, chief):
    client = english(chief)

    response = client.get(reverse("kpi:index"), {"region": "RSD", "year": 2025})

    assert response.status_code == 200
    assert "85.0 %" in card(response, "contract_coverage_goods")
    # the figures, yes; the drill-downs into RSD's ledger lines, no
    assert "Made of:" not in card(response, "contract_coverage_goods")
    assert client.get(reverse("kpi:compliance"), {"region": "RSD"}).status_code == 403


def test_an_unknown_region_is_not_found(figures, chief):
    assert english(chief).get(reverse("kpi:index"), {"region": "XX"}).status_code == 404


def test_a_bad_year_is_reported_and_the_newest_year_shown(figures, chief):
    response = english(chief).get(reverse("kpi:index"), {"year": "tyve"})

    assert response.status_code == 200
    page = text(response)
    assert "Year: The year must be a number such as 2025." in page
    assert "Central Denmark Region · 2025" in page


def test_the_year_picker_offers_only_the_years_the_region_has_figures_for(figures, chief):
    from kpi.models import KpiRun

    run = KpiRun.objects.get()
    # The collaboration has tender figures for 2019; the region has none.
    dashboard_data.snapshot(run, "joint_agreement_spend", None, 2019, "1000000.00")

    html = english(chief).get(reverse("kpi:index")).content.decode()

    picker = re.search(r'<select id="kpi-year" name="year">(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="(\d+)"', picker) == ["2025", "2024"]


def test_the_collaboration_dashboard_is_for_chiefs_ufo_and_the_secretariat(
    figures, chief, ufo_member, secretariat, officer_rm
):
    url = reverse("kpi:collaboration")
    assert english(chief).get(url).status_code == 200
    assert english(ufo_member).get(url).status_code == 200
    assert english(secretariat).get(url).status_code == 200
    assert english(officer_rm).get(url).status_code == 403


# The collaboration dashboard ----------------------------------------------------------------------


def test_the_collaboration_dashboard_shows_the_joint_figures_against_their_targets(
    figures, secretariat
):
    response = english(secretariat).get(reverse("kpi:collaboration"), {"year": 2025})

    spend = card(response, "joint_agreement_spend")
    assert "DKK 1,500,000,000" in spend and "Target ≥ DKK 2,000,000,000" in spend
    assert "Off track" in spend
    reduction = card(response, "avg_price_reduction_joint")
    assert "12.0 %" in reduction and "Value-weighted 14.0 %" in reduction
    savings = card(response, "annual_savings")
    assert "Of the target 60.0 %" in savings
    assert "The savings records" in savings
    page = text(response)
    assert "RM – Central Denmark Region 7" in page
    assert "0 of 8 targets met." in page
    assert "Contract coverage, goods ≥ 80.0 % 2 of 5 regions on track" in page


def test_outstanding_decisions_show_on_the_collaboration_dashboard(figures, secretariat):
    tender = TenderCase.objects.create(
        reference="FUP-2025-001",
        title="Sprøjter og kanyler",
        category=Category.objects.create(code="33141300", check_digit="0", label_en="x", level=5),
        area=TenderCase.Area.MEDICO_ACQUISITIONS,
        kind=TenderCase.Kind.FRAMEWORK,
        lead_region=figures["RM"],
    )
    Participation.objects.create(tender=tender, region=figures["RN"])

    response = english(secretariat).get(reverse("kpi:collaboration"), {"year": 2025})

    assert "FUP-2025-001 Sprøjter og kanyler" in text(response)
    assert "RN" in re.search(r"FUP-2025-001.*?</tr>", response.content.decode(), re.S).group(0)


# Drill-downs ------------------------------------------------------------------------------------


def test_every_drill_down_link_on_the_dashboards_resolves(figures, secretariat):
    client = english(secretariat)
    pages = [
        client.get(reverse("kpi:index"), {"region": "RM", "year": 2025}),
        client.get(reverse("kpi:collaboration"), {"year": 2025}),
    ]
    links = set()
    for page in pages:
        links |= set(re.findall(r'data-testid="drill-[^"]+"', page.content.decode()))
        links |= {
            unescape(href)
            for href in re.findall(r'<a href="([^"]+)" data-testid="drill-', page.content.decode())
        }
    hrefs = {link for link in links if link.startswith("/")}

    assert len(hrefs) >= 12
    for href in sorted(hrefs):
        assert client.get(href).status_code == 200, href


def test_coverage_drills_into_off_contract_spend_of_the_same_region_and_year(figures, chief):
    response = english(chief).get(reverse("kpi:index"), {"year": 2025})

    goods = response.content.decode()
    hrefs = re.findall(r'<a href="([^"]+)" data-testid="drill-contract_coverage_goods"', goods)
    assert unescape(hrefs[0]) == "/forbrug/uden-kontrakt/?region=RM&year=2025&basis=supplier"


@pytest.fixture
def world(db):
    return kpi_data.build()


def test_the_compliance_drill_down_lists_the_leaking_categories(world, secretariat):
    # RM 2025, in a covered category on the day: L1 1000 and L2 500 (C1, 3314…, matched),
    # L5 2000 (C2, 85…, matched), and L7 800 at 33333333 in 33141110 while C1 covers 3314…
    # but that supplier's contract C3 is for 3019…: the leak. 3500 of 4300 = 81.4 %.
    response = english(secretariat).get(reverse("kpi:compliance"), {"region": "RM", "year": 2025})

    assert response.status_code == 200
    page = text(response)
    assert "Spend in covered categories DKK 4,300" in page
    assert "of it under a covering contract DKK 3,500 (81.4 %)" in page
    assert "Leak DKK 800" in page
    table = re.search(
        r'data-testid="leaking-categories".*?</table>', response.content.decode(), re.S
    ).group(0)
    assert "33100000" in table and "DKK 800" in table
    suppliers = re.search(
        r'data-testid="leaking-suppliers".*?</table>', response.content.decode(), re.S
    ).group(0)
    assert "33333333" in suppliers


def test_the_digital_orders_drill_down_lists_the_top_suppliers_e_order_share(world, secretariat):
    # RM 2025 transactions (supplier, invoice), excluded line X1 left out:
    # 11111111 A1 e, A2, A3 → 3 (1 e-order); 22222222 B1, B2 → 2; 44444444 D1 e, D2 → 2 (1);
    # 33333333 C1 → 1; 55555555 E1 → 1. Nine transactions, two by e-order: 22.2 %.
    response = english(secretariat).get(
        reverse("kpi:digital_orders"), {"region": "RM", "year": 2025}
    )

    assert response.status_code == 200
    page = text(response)
    assert "Transactions with these suppliers 9" in page
    assert "of them by e-order 2 (22.2 %)" in page
    table = re.search(r'data-testid="top-suppliers".*?</table>', response.content.decode(), re.S)
    order = re.findall(r"<td>(\d{8})</td>", table.group(0))
    assert order == ["11111111", "22222222", "44444444", "33333333", "55555555"]
    assert "33.3 %" in table.group(0)


def test_the_digital_orders_drill_down_says_when_the_extract_has_no_channels(world, secretariat):
    response = english(secretariat).get(
        reverse("kpi:digital_orders"), {"region": "RSD", "year": 2025}
    )

    assert "have no ordering-channel column" in text(response)


def test_an_officer_drills_only_into_their_own_regions_lines(world, officer_rsd):
    client = english(officer_rsd)

    assert client.get(reverse("kpi:digital_orders"), {"region": "RSD"}).status_code == 200
    assert client.get(reverse("kpi:digital_orders"), {"region": "RM"}).status_code == 403


# The monthly report -------------------------------------------------------------------------------


def test_the_monthly_report_shows_the_month_the_year_so_far_and_the_targets(figures, chief):
    response = english(chief).get(reverse("kpi:report"), {"month": "2025-03"})

    assert response.status_code == 200
    page = text(response)
    assert "KPI report: Central Denmark Region, March 2025" in page
    # The months carry no numerator and denominator here: no year to date (tested below).
    assert "Contract coverage, goods 85.0 % +2.0 percentage points – – – ≥ 80.0 % ✓ on track" in (
        page
    )
    html = response.content.decode()
    assert "@media print" not in html  # the print rules live in static/css/kpi.css
    assert "kpi.css" in html


def test_the_report_compares_the_year_to_date_with_the_same_months_a_year_before(figures, chief):
    from kpi.models import KpiRun, KpiSnapshot

    run = KpiRun.objects.get()
    rm = figures["RM"]
    KpiSnapshot.objects.filter(key="contract_coverage_goods", period_kind="month").delete()
    goods = {  # month: (numerator, denominator)
        (2025, 1): (81, 100), (2025, 2): (166, 200), (2025, 3): (85, 100),
        (2024, 1): (70, 100), (2024, 2): (150, 200), (2024, 3): (40, 50),
        (2024, 4): (1, 1000),  # after March: never part of the comparison
    }  # fmt: skip
    for (year, month), (num, den) in goods.items():
        dashboard_data.snapshot(
            run, "contract_coverage_goods", rm, year, str(round(num / den, 6)), month=month,
            detail={"numerator": str(num), "denominator": str(den)},
        )  # fmt: skip
    spend = {(2025, 1): "1000000", (2025, 2): "2000000", (2025, 3): "500000",
             (2024, 1): "1200000", (2024, 2): "1300000", (2024, 3): "500000",
             (2024, 4): "9000000"}  # fmt: skip
    for (year, month), value in spend.items():
        dashboard_data.snapshot(run, "addressable_spend", rm, year, value, month=month)
    dashboard_data.snapshot(run, "addressable_spend", rm, 2024, "20000000")  # the full year

    response = english(chief).get(reverse("kpi:report"), {"month": "2025-03"})

    page = text(response)
    assert "Year to date, Jan–Mar 2025" in page
    assert "Same months, Jan–Mar 2024" in page
    # (81+166+85)/400 = 83.0 %; (70+150+40)/350 = 74.3 %; +8.7 points
    assert "83.0 % 74.3 % +8.7 percentage points" in page
    # 3,500,000 against 3,000,000 (not the full 2024 of 20,000,000)
    assert "DKK 3,500,000 DKK 3,000,000 +DKK 500,000" in page


def test_the_monthly_report_opens_on_the_last_complete_month(figures, chief):
    from django.utils import timezone

    from kpi.models import KpiRun

    run = KpiRun.objects.get()
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    for month in (this_month, last_month):
        dashboard_data.snapshot(
            run, "addressable_spend", figures["RM"], month.year, "1000", month=month.month
        )

    page = text(english(chief).get(reverse("kpi:report")))

    assert f"KPI report: Central Denmark Region, {last_month:%B %Y}" in page


def test_the_monthly_report_defaults_to_the_latest_month(figures, chief):
    response = english(chief).get(reverse("kpi:report"))

    assert "March 2025" in text(response)


def test_a_badly_written_month_is_explained(figures, chief):
    response = english(chief).get(reverse("kpi:report"), {"month": "03-2025"})

    assert response.status_code == 200
    assert "The month must be written as YYYY-MM, e.g. 2025-03." in text(response)
    assert "March 2025" in text(response)


def test_a_role_in_two_regions_defaults_to_the_first_by_code(figures, chief):
    MembershipFactory(user=chief, region=figures["RH"], role=Membership.Role.OFFICER)

    response = english(chief).get(reverse("kpi:index"), {"year": 2025})

    assert "Capital Region of Denmark · 2025" in text(response)
