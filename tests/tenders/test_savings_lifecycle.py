"""The savings lifecycle: expected (from the UFO figures) → awarded → realised; the plans.

Figures are worked by hand in the comments; the fixture's records, all annual:
  joint case A (framework, goods and services, contract 2024-01-01 … 2027-12-31):
    RM awarded 1,000,000 → 800,000 = 200,000; RSD awarded 500,000 → 450,000 = 50,000;
    RH expected 1,000,000 → 0 (a forecast: never counted)
  joint case B (one-off, medico, contract 2026-07-01 … 2028-06-30):
    RM awarded 400,000 → 300,000 = 100,000
  RSD's own contract (framework, category 33 → medico, from 2025-03-01, no end):
    awarded 300,000 → 240,000 = 60,000
  RM's own contract (one-off, 2022-01-01 … 2023-12-31): 100,000 → 90,000 = 10,000
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from rfi.models import Membership
from tenders import savings_reports, selectors, services
from tenders.models import (
    CandidateArea,
    SavingsMethod,
    SavingsPlan,
    SavingsRecord,
    TenderCase,
)
from tests.conftest import client_for
from tests.factories import MembershipFactory, compliance_snapshot, savings_record

pytestmark = pytest.mark.django_db

D = dt.date
M = Decimal
AWARDED, EXPECTED = SavingsRecord.Stage.AWARDED, SavingsRecord.Stage.EXPECTED


@pytest.fixture
def book(savings_cases, regions, category_33):
    """``savings_cases`` (A and B), an estimate method, and two contracts of the regions' own."""
    method = savings_cases["method"]
    SavingsMethod.objects.create(code="estimate", label_da="Skøn", label_en="Estimate")
    savings_record(
        regions["RSD"],
        "300000",
        "240000",
        method,
        category=category_33,
        kind=TenderCase.Kind.FRAMEWORK,
        contract_start=D(2025, 3, 1),
    )
    savings_record(
        regions["RM"],
        "100000",
        "90000",
        method,
        category=category_33,
        kind=TenderCase.Kind.ONE_OFF,
        contract_start=D(2022, 1, 1),
        contract_end=D(2023, 12, 31),
    )
    return savings_cases


# Expected: from the UFO figures when the chiefs approve ------------------------------------


def _recommended(candidate: CandidateArea) -> None:
    # Scoring is tested elsewhere; here the UFO group has recommended the area.
    candidate.status = CandidateArea.Status.RECOMMENDED
    candidate.save(update_fields=["status"])


def test_approving_an_area_estimates_each_regions_expected_saving(
    regions, category_33, ufo_member, secretariat
):
    SavingsMethod.objects.create(code="estimate", label_da="Skøn", label_en="Estimate")
    candidate = services.candidate_create(
        actor=ufo_member,
        title="Sårpleje",
        category=category_33,
        plan_year=timezone.localdate().year + 1,
        annual_volume=M("5000000"),
        expected_reduction=M("12"),
    )
    _recommended(candidate)

    services.candidate_decide(
        candidate=candidate,
        actor=secretariat,
        decision=services.Decision.APPROVE,
        meeting_date=timezone.localdate(),
        minutes_reference="Referat pkt. 3",
    )

    candidate = CandidateArea.objects.get(pk=candidate.pk)
    expected = SavingsRecord.objects.filter(tender=candidate.tender, stage=EXPECTED)
    # 5,000,000 split over the 5 active regions = 1,000,000 each; 12 % off → 880,000:
    # an expected saving of 120,000 per region, by the "estimate" method.
    assert sorted(r.region.code for r in expected) == ["RH", "RM", "RN", "RSD", "RSJ"]
    assert {(r.baseline_annual_cost, r.new_annual_cost) for r in expected} == {
        (M("1000000.00"), M("880000.00"))
    }
    assert {r.method.code for r in expected} == {"estimate"}
    assert not SavingsRecord.objects.filter(tender=candidate.tender, stage=AWARDED).exists()


def test_no_ufo_figures_no_expected_saving(regions, category_33, ufo_member, secretariat):
    SavingsMethod.objects.create(code="estimate", label_da="Skøn")
    candidate = services.candidate_create(
        actor=ufo_member, title="Handsker", category=category_33, plan_year=2030
    )
    _recommended(candidate)
    services.candidate_decide(
        candidate=candidate,
        actor=secretariat,
        decision=services.Decision.APPROVE,
        meeting_date=timezone.localdate(),
        minutes_reference="Referat pkt. 4",
    )
    assert not SavingsRecord.objects.exists()


def test_an_officer_adjusts_the_expected_saving_of_their_own_region_only(
    book, regions, officer_rm, officer_rsd
):
    tender = book["a"]
    with pytest.raises(PermissionDenied):
        services.savings_expect(
            tender=tender,
            region=regions["RM"],
            actor=officer_rsd,
            baseline_annual_cost=M("10"),
            new_annual_cost=M("5"),
        )
    with pytest.raises(ValidationError):
        services.savings_expect(
            tender=tender,
            region=regions["RM"],
            actor=officer_rm,
            baseline_annual_cost=M("0"),
            new_annual_cost=M("5"),
        )

    record = services.savings_expect(
        tender=tender,
        region=regions["RM"],
        actor=officer_rm,
        baseline_annual_cost=M("900000"),
        new_annual_cost=M("810000"),
    )

    # The expected record stands beside the awarded one; the awarded one is untouched.
    assert (record.stage, record.annual_saving, record.method.code) == (
        EXPECTED,
        M("90000"),
        "estimate",
    )
    awarded = SavingsRecord.objects.get(tender=tender, region=regions["RM"], stage=AWARDED)
    assert awarded.annual_saving == M("200000.00")


# Stage filtering, and the overview's labels ---------------------------------------------------


def test_the_overview_counts_awarded_savings_and_shows_expected_beside(book):
    rows = {r["key"]: r for r in selectors.savings_totals(group_by="region")}
    # RH has only an expected record: 0 saved, 1,000,000 expected.
    assert (rows["RH"]["saving"], rows["RH"]["expected"]) == (M("0"), M("1000000.00"))
    # RM: 200,000 + 100,000 + 10,000 awarded; RSD: 50,000 + 60,000.
    assert rows["RM"]["saving"] == M("310000.00")
    assert rows["RSD"]["saving"] == M("110000.00")


def test_the_overview_names_a_regions_own_contract_not_none(book, officer_rm):
    response = client_for(officer_rm).get(reverse("tenders:savings_overview") + "?by=tender")
    text = response.content.decode()
    assert response.status_code == 200
    assert "None" not in text
    assert "33000000-0" in text  # the own contract's category names the row
    assert text.count("FUP-2024-001") >= 1


def test_the_overview_by_area_puts_own_contracts_in_their_categorys_area(book):
    rows = {r["key"]: r for r in selectors.savings_totals(group_by="area")}
    # CPV 33 maps to medico (no mapping loaded: goods and services is the default).
    assert None not in rows
    total = sum(r["saving"] for r in rows.values())
    assert total == M("420000.00")  # 200,000 + 50,000 + 100,000 + 60,000 + 10,000


# The reports, 2026 ---------------------------------------------------------------------------


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def _values(report, column):
    return {row.label: row.values[column] for row in report.rows}


def test_report_by_kind_and_area(book, english):
    report = savings_reports.report_kind_area(2026)
    savings = _values(report, "saving")
    # Active in 2026: A (RM 200,000, RSD 50,000; framework, goods), B (RM 100,000; one-off,
    # medico), RSD's own (60,000; framework; CPV 33 → goods and services without a mapping).
    # RM's own contract ended in 2023; RH's record is expected.
    assert savings["Framework agreement"] == M("310000.00")
    assert savings["One-off purchase"] == M("100000.00")
    assert report.totals.values["saving"] == M("410000.00")
    # Baseline 1,000,000 + 500,000 + 400,000 + 300,000 = 2,200,000; 410,000 / 2,200,000.
    assert report.totals.values["reduction"] == M("0.1864")
    by_area = {r.label: r.values["saving"] for r in report.rows if r.group == "Area"}
    assert sum(by_area.values()) == M("410000.00")


def test_report_joint_against_regional_per_year(book):
    report = savings_reports.report_origin(2026)
    rows = {r.label: r.values for r in report.rows}
    # 2022: only RM's own (10,000). 2024: A (250,000). 2025: A + RSD's own (from March).
    assert (rows["2022"]["joint"], rows["2022"]["regional"]) == (M("0.00"), M("10000.00"))
    assert (rows["2024"]["joint"], rows["2024"]["regional"]) == (M("250000.00"), M("0.00"))
    assert (rows["2025"]["joint"], rows["2025"]["regional"]) == (M("250000.00"), M("60000.00"))
    # 2026: A + B = 350,000 joint; 60,000 regional; joint share 350/410.
    assert rows["2026"]["total"] == M("410000.00")
    assert rows["2026"]["joint_share"] == M("0.8537")


def test_report_accumulated_against_new_counts_the_strategy_from_its_start(book):
    report = savings_reports.report_years(2026, strategy_start=2025)
    rows = {r.label: r.values for r in report.rows}
    # New: contracts starting in the year. 2022: 10,000; 2024: 250,000; 2025: 60,000;
    # 2026: 100,000.
    assert [rows[y]["new"] for y in ("2022", "2023", "2024", "2025", "2026")] == [
        M("10000.00"),
        M("0.00"),
        M("250000.00"),
        M("60000.00"),
        M("100000.00"),
    ]
    # Accumulated 2026: every active contract = 410,000.
    assert rows["2026"]["accumulated"] == M("410000.00")
    # Since the strategy's start (2025-01-01): case A began 2024, so only RSD's own (60,000)
    # and B (100,000) count = 160,000; before the strategy no such column.
    assert rows["2026"]["strategy"] == M("160000.00")
    assert rows["2025"]["strategy"] == M("60000.00")
    assert rows["2024"]["strategy"] is None


def test_report_price_reduction_simple_mean_and_value_weighted(book, english):
    report = savings_reports.report_price_reduction(2026)
    rows = {r.url: r.values for r in report.rows}
    # A: 250,000 / 1,500,000 = 0.1667; B: 100,000 / 400,000 = 0.25.
    assert rows["FUP-2024-001"]["reduction"] == M("0.1667")
    assert rows["FUP-2026-001"]["reduction"] == M("0.2500")
    facts = {str(label): value for label, value, _unit in report.facts}
    # Simple mean (0.1667 + 0.25) / 2 = 0.20835 → 0.2084 (of the rounded reductions, as
    # the table shows them); value-weighted 350,000 / 1,900,000 = 0.1842.
    assert facts["Simple mean"] == M("0.2084")
    assert facts["Value-weighted"] == M("0.1842")


@pytest.mark.parametrize("slug", savings_reports.REPORTS)
def test_each_report_page_has_a_chart_and_a_table(book, officer_rm, slug):
    response = client_for(officer_rm).get(
        reverse("tenders:savings_report", args=[slug]) + "?year=2026"
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert 'data-kpi-chart="report"' in text
    assert 'data-testid="report-table"' in text
    assert 'id="kpi-chart-data"' in text


def test_an_unknown_report_is_404(book, officer_rm):
    response = client_for(officer_rm).get(reverse("tenders:savings_report", args=["nope"]))
    assert response.status_code == 404


def test_the_price_reduction_export_holds_the_pages_figures(book, officer_rm):
    response = client_for(officer_rm).get(
        reverse("tenders:savings_report_export", args=["price-reduction"]) + "?year=2026"
    )
    assert response.status_code == 200
    assert "besparelser-price-reduction-2026" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if row and row[0]]
    # The facts (simple mean, value-weighted) stand above the table, in that order.
    facts = [row[1] for row in rows if isinstance(row[1], float)][:2]
    assert facts == [pytest.approx(0.2084), pytest.approx(0.1842)]
    # columns: case, regions, baseline, saving, reduction; the totals row last
    [case_a] = [row for row in rows if str(row[0]).startswith("FUP-2024-001")]
    assert case_a[1:5] == (2, 1500000.0, 250000.0, 0.1667)
    assert rows[-1][2:5] == (1900000.0, 350000.0, 0.1842)


def test_the_kind_and_area_export_guards_formulas(book, officer_rm, category_33):
    book["a"].title = "=HYPERLINK(1)"
    book["a"].save()
    response = client_for(officer_rm).get(
        reverse("tenders:savings_report_export", args=["kind-area"]) + "?year=2026"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert 410000.0 in values  # the total
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)


# Realised beside the awarded record -----------------------------------------------------------


def test_the_case_page_shows_the_realised_saving_and_its_method(book, regions, officer_rm):
    # RM's compliance in 2026 is 90 %: B's 100,000 × 0.9 × 184/365 = 45,369.86.
    compliance_snapshot(regions["RM"], 2026, "0.9")
    today = D(2026, 12, 6)
    record = SavingsRecord.objects.get(tender=book["b"], region=regions["RM"])
    found = savings_reports.realisation_of(record, today=today)
    assert (found.year, found.days, found.amount) == (2026, 184, M("45369.86"))
    # An expected record is never realised.
    expected = SavingsRecord.objects.get(stage=EXPECTED)
    assert savings_reports.realisation_of(expected, today=today) is None

    response = client_for(officer_rm).get(reverse("tenders:savings", args=["FUP-2026-001"]))
    text = response.content.decode()
    assert "Realised = awarded annual saving" in text or "Realiseret" in text


# Plans against realised --------------------------------------------------------------------


def test_a_savings_plan_has_an_owner_of_the_region(book, regions, officer_rm, officer_rsd):
    with pytest.raises(ValidationError) as error:
        services.savings_plan_set(
            actor=officer_rm,
            region=regions["RM"],
            year=2026,
            owner=officer_rsd,  # a user of another region
            forecast=M("100000"),
        )
    assert "owner" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.savings_plan_set(
            actor=officer_rsd, region=regions["RM"], year=2026, owner=officer_rm, forecast=M("1")
        )

    plan = services.savings_plan_set(
        actor=officer_rm, region=regions["RM"], year=2026, owner=officer_rm, forecast=M("250000")
    )
    again = services.savings_plan_set(
        actor=officer_rm, region=regions["RM"], year=2026, owner=officer_rm, forecast=M("260000")
    )
    assert again.pk == plan.pk
    assert SavingsPlan.objects.get().forecast == M("260000")


def test_plan_against_realised(book, regions, officer_rm):
    compliance_snapshot(regions["RM"], 2026, "0.9")
    compliance_snapshot(regions["RSD"], 2026, "0.8")
    services.savings_plan_set(
        actor=officer_rm, region=regions["RM"], year=2026, owner=officer_rm, forecast=M("250000")
    )
    rows = {row.region.code: row for row in savings_reports.plan_against_realised(2026)}
    # RM realised: A 200,000 × 0.9 (all year) = 180,000; B 100,000 × 0.9 × 184/365 =
    # 45,369.86 → 225,369.86; against a forecast of 250,000: −24,630.14.
    assert rows["RM"].realised == M("225369.86")
    assert rows["RM"].difference == M("-24630.14")
    assert rows["RM"].plan.owner == officer_rm
    # RSD: (50,000 + 60,000) × 0.8 = 88,000; no plan.
    assert rows["RSD"].realised == M("88000.00")
    assert rows["RSD"].plan is None
    # RH has no compliance figure, but nothing active to realise either: 0.
    assert rows["RH"].realised == M("0.00")


def test_the_plan_page_sets_a_plan_for_the_own_region(book, regions, officer_rm):
    client = client_for(officer_rm)
    response = client.post(
        reverse("tenders:savings_plan") + "?year=2026",
        {
            "region": regions["RM"].pk,
            "year": "2026",
            "owner": officer_rm.pk,
            "forecast": "250.000",
            "note": "",
        },
    )
    assert response.status_code == 302
    plan = SavingsPlan.objects.get()
    assert (plan.region.code, plan.year, plan.forecast) == ("RM", 2026, M("250000"))
    page = client.get(reverse("tenders:savings_plan") + "?year=2026").content.decode()
    assert 'data-kpi-chart="plan"' in page


def test_the_plan_page_refuses_another_regions_plan(book, regions, officer_rm):
    MembershipFactory(
        user__username="rsd_person", region=regions["RSD"], role=Membership.Role.OFFICER
    )
    response = client_for(officer_rm).post(
        reverse("tenders:savings_plan"),
        {"region": regions["RSD"].pk, "year": "2026", "owner": officer_rm.pk, "forecast": "1"},
    )
    assert response.status_code == 403


# The API ------------------------------------------------------------------------------------


def test_the_api_lists_records_with_their_stage_and_records_an_expected_saving(
    book, regions, officer_rm
):
    client = client_for(officer_rm)
    expected = client.get("/api/v1/savings/?stage=expected").json()
    assert [(r["region"], r["stage"], r["annual_saving"]) for r in expected["results"]] == [
        ("RH", "expected", "1000000.00")
    ]
    regional = client.get("/api/v1/savings/?origin=regional").json()
    assert sorted(r["region"] for r in regional["results"]) == ["RM", "RSD"]
    assert all(r["tender"] is None for r in regional["results"])

    response = client.post(
        "/api/v1/savings/",
        {
            "tender": "FUP-2026-001",
            "region": "RM",
            "stage": "expected",
            "baseline_annual_cost": "400000",
            "new_annual_cost": "340000",
            "method": "price",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["stage"], response.json()["annual_saving"]) == (
        "expected",
        "60000.00",
    )
    assert SavingsRecord.objects.filter(tender=book["b"], region=regions["RM"]).count() == 2


def test_the_api_shows_the_realised_figure_and_the_plans(book, regions, officer_rm):
    compliance_snapshot(regions["RM"], 2026, "0.9")
    services.savings_plan_set(
        actor=officer_rm, region=regions["RM"], year=2026, owner=officer_rm, forecast=M("250000")
    )
    client = client_for(officer_rm)
    rows = client.get("/api/v1/savings/?tender=FUP-2026-001").json()["results"]
    [awarded] = [r for r in rows if r["stage"] == "awarded"]
    if timezone.localdate().year == 2026:
        assert awarded["realised"]["amount"] == "45369.86"
        assert awarded["realised"]["days_active"] == 184
    plans = client.get("/api/v1/savings-plans/?year=2026").json()["results"]
    assert [(p["region"], p["owner"], p["forecast"]) for p in plans] == [
        ("RM", "officer_rm", "250000.00")
    ]


def test_the_ufo_group_enters_the_figures_the_expected_savings_come_from(
    regions, category_33, ufo_member
):
    client = client_for(ufo_member)
    response = client.post(
        reverse("tenders:candidate_create"),
        {
            "title": "Sårpleje",
            "category": "33000000",
            "plan_year": "2030",
            "description": "",
            "proposer_region": regions["RM"].pk,
            "annual_volume": "5.000.000",
            "expected_reduction": "12,5",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    candidate = CandidateArea.objects.get()
    assert (candidate.annual_volume, candidate.expected_reduction) == (
        M("5000000"),
        M("12.5"),
    )
    page = client.get(reverse("tenders:candidate", args=[candidate.pk])).content.decode()
    assert "5.000.000 kr." in page


def test_before_award_the_page_offers_and_records_the_expected_saving(
    book, regions, officer_rm, category_33
):
    tender = TenderCase.objects.create(
        reference="FUP-2027-001",
        title="Not awarded",
        category=category_33,
        area=TenderCase.Area.GOODS_SERVICES,
        lead_region=regions["RM"],
        status=TenderCase.Status.IN_TENDER,
    )
    client = client_for(officer_rm)
    url = reverse("tenders:savings", args=[tender.reference])
    page = client.get(url).content.decode()
    [expected_radio] = re.findall(r'<input[^>]*name="stage"[^>]*value="expected"[^>]*>', page)
    assert "checked" in expected_radio

    response = client.post(
        url,
        {
            "stage": "expected",
            "region": regions["RM"].pk,
            "baseline_annual_cost": "2.000.000",
            "new_annual_cost": "1.700.000",
            "method": book["method"].pk,
        },
    )
    assert response.status_code == 302
    record = SavingsRecord.objects.get(tender=tender)
    assert (record.stage, record.annual_saving) == (EXPECTED, M("300000"))
    # and an awarded saving is still refused before award
    response = client.post(
        url,
        {
            "stage": "awarded",
            "region": regions["RM"].pk,
            "baseline_annual_cost": "2.000.000",
            "new_annual_cost": "1.700.000",
            "method": book["method"].pk,
        },
    )
    assert response.status_code == 200
    assert SavingsRecord.objects.filter(tender=tender).count() == 1
