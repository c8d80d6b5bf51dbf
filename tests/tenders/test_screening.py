"""Screening a candidate area from spend: the ledger's figures for its CPV subtree, the
volume criterion's suggested score, the proposal that keeps the figures, and the API.

The hand-worked ledger (candidate category 33140000, i.e. everything under CPV 3314):

RM  2025-01-15  supplier A  33141110  10.000  on contract A (33140000, 2025-01-01..2026-06-30)
RM  2025-06-10  supplier A  33141110  20.000  on contract A
RM  2026-02-05  supplier B  33141110   5.000  covered by contract A's category, not matched
RM  2025-06-10  supplier C  30190000  99.000  another category: never counts
RSD 2025-09-01  supplier B  33141000  40.000  covered by RSD's old contract (33141000, with
                                              another supplier, until 2025-12-31): not matched

The latest month with lines is February 2026: the last 12 months are March 2025 to
February 2026, the last full year is 2025 (the ledger starts in January 2025).

last 12 months   spend   covered  on contract  share    suppliers
RM              25.000    25.000       20.000  80,0 %   2 (A, B)
RSD             40.000    40.000            0  0,0 %    1 (B)
RH                   0         0            0  –        0
all             65.000    65.000       20.000  30,8 %   2; top: B 45.000 (69,2 %), A 20.000 (30,8 %)

year 2025        spend   covered  on contract  share    suppliers
RM              30.000    30.000       30.000  100,0 %  1 (A)
RSD             40.000    40.000            0  0,0 %    1 (B)
all             70.000    70.000       30.000  42,9 %   2; top: B 40.000 (57,1 %), A 30.000 (42,9 %)

Contracts, today 2026-03-01 (24 months: until 2028-03-01): RM's contract A ends
2026-06-30 and RSD's contract D on 33100000 (it covers 3314) ends 2027-12-31: both
shown. RH's contract on 33141110 ends 2028-06-30 (outside), RSD's on 33141000 ended
2025-12-31 (past), RM's on 30190000 is another category: none shown.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spend import matching
from spend import screening as screening_module
from spend.screening import Screening, category_screening
from tenders.models import CandidateArea, VolumeScoreThreshold
from tenders.reference import plan_reference_load
from tenders.screening import suggested_volume_score
from tests.conftest import client_for
from tests.factories import RegionFactory
from tests.spend import spend_data as data

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2026, 3, 1)
A, B, C = "11111111", "22222222", "33333333"


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """The pages count the 24 months of contract ends from 1 March 2026."""
    monkeypatch.setattr(screening_module, "timezone", SimpleNamespace(localdate=lambda: TODAY))


def text_of(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", unescape(html))


@pytest.fixture
def ledger(regions):
    plan_reference_load()
    data.tree()
    rm, rsd, rh = regions["RM"], regions["RSD"], regions["RH"]
    data.supplier(A, "Alfa Medico A/S")
    data.supplier(B, "Beta Sår ApS")
    data.contract(rm, A, D(2025, 1, 1), D(2026, 6, 30), code="33140000", title="Sårpleje RM")
    data.contract(rm, C, D(2025, 1, 1), D(2026, 5, 1), code="30190000", title="Kontor RM")
    data.contract(
        rsd, "44444444", D(2026, 1, 1), D(2027, 12, 31), code="33100000", title="Medico RSD"
    )
    data.contract(rsd, "55555555", D(2024, 1, 1), D(2025, 12, 31), code="33141000", title="Gammel")
    data.contract(rh, "66666666", D(2026, 1, 1), D(2028, 6, 30), code="33141110", title="Lang RH")
    rm_batch = data.batch(rm)
    data.lines(
        rm_batch,
        {"posting_date": D(2025, 1, 15), "supplier_id": A, "supplier_name": "Alfa Medico A/S",
         "category_code": "33141110", "amount": 10000},
        {"posting_date": D(2025, 6, 10), "supplier_id": A, "supplier_name": "Alfa Medico A/S",
         "category_code": "33141110", "amount": 20000},
        {"posting_date": D(2026, 2, 5), "supplier_id": B, "supplier_name": "Beta Sår ApS",
         "category_code": "33141110", "amount": 5000},
        {"posting_date": D(2025, 6, 10), "supplier_id": C, "category_code": "30190000",
         "amount": 99000},
    )  # fmt: skip
    rsd_batch = data.batch(rsd)
    data.lines(
        rsd_batch,
        {"posting_date": D(2025, 9, 1), "supplier_id": B, "supplier_name": "Beta Sår ApS",
         "category_code": "33141000", "amount": 40000},
    )  # fmt: skip
    matching.after_lines_loaded(rm_batch)
    matching.after_lines_loaded(rsd_batch)
    return {"rm": rm_batch, "rsd": rsd_batch}


def _rows(period) -> dict[str, tuple]:
    return {
        row.code: (row.total, row.covered, row.on_contract, row.on_contract_share, row.suppliers)
        for row in period.regions
    }


# The figures ---------------------------------------------------------------------------------


def test_the_last_12_months_end_with_the_latest_month_that_has_lines(ledger):
    screening = category_screening(code="33140000", today=TODAY)

    assert screening.as_of == D(2026, 2, 1)
    period = screening.last_12_months
    assert (period.start, period.end) == (D(2025, 3, 1), D(2026, 2, 28))
    rows = _rows(period)
    assert rows["RM"] == (Decimal("25000"), Decimal("25000"), Decimal("20000"), Decimal("80.0"), 2)
    assert rows["RSD"] == (Decimal("40000"), Decimal("40000"), Decimal("0"), Decimal("0.0"), 1)
    assert rows["RH"] == (Decimal("0"), Decimal("0"), Decimal("0"), None, 0)
    total = period.total
    assert (total.total, total.on_contract_share, total.suppliers) == (
        Decimal("65000"),
        Decimal("30.8"),
        2,
    )
    assert screening.annual_spend == Decimal("65000")


def test_the_top_suppliers_across_the_regions(ledger):
    period = category_screening(code="33140000", today=TODAY).last_12_months

    top = [(s.supplier_id, s.name, s.total, s.share) for s in period.top_suppliers]
    assert top == [
        (B, "Beta Sår ApS", Decimal("45000"), Decimal("69.2")),
        (A, "Alfa Medico A/S", Decimal("20000"), Decimal("30.8")),
    ]


def test_the_last_full_year_is_the_latest_calendar_year_the_ledger_covers(ledger):
    screening = category_screening(code="33140000", today=TODAY)

    assert screening.full_year == 2025
    period = screening.last_full_year
    rows = _rows(period)
    assert rows["RM"] == (Decimal("30000"), Decimal("30000"), Decimal("30000"), Decimal("100.0"), 1)
    assert rows["RSD"][0] == Decimal("40000")
    assert (period.total.total, period.total.on_contract_share, period.total.suppliers) == (
        Decimal("70000"),
        Decimal("42.9"),
        2,
    )
    assert [s.total for s in period.top_suppliers] == [Decimal("40000"), Decimal("30000")]


def test_a_ledger_starting_after_january_has_no_full_year(regions):
    data.tree()
    batch = data.batch(regions["RM"])
    data.lines(batch, {"posting_date": D(2025, 2, 3), "category_code": "33141110"})
    matching.after_lines_loaded(batch)

    screening = category_screening(code="33140000", today=TODAY)

    assert screening.full_year is None and screening.last_full_year is None
    assert screening.last_12_months.total.total == Decimal("1000")


def test_contracts_in_or_covering_the_category_ending_within_24_months(ledger):
    screening = category_screening(code="33140000", today=TODAY)

    assert screening.ends_by == D(2028, 3, 1)
    assert [(c.region_code, c.title, c.ends_on) for c in screening.contracts_ending] == [
        ("RM", "Sårpleje RM", D(2026, 6, 30)),
        ("RSD", "Medico RSD", D(2027, 12, 31)),
    ]


def test_no_ledger_lines_no_figures(regions):
    data.tree()

    screening = category_screening(code="33140000", today=TODAY)

    assert screening.as_of is None and screening.last_12_months is None
    assert screening.annual_spend is None and suggested_volume_score(None) is None


def test_the_figures_survive_the_round_trip_through_json(ledger):
    screening = category_screening(code="33140000", today=TODAY)

    again = Screening.from_json(screening.to_json())

    assert again == screening


# The suggested score ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spend", "score"),
    [
        ("0", 1),
        ("1999999.99", 1),
        ("2000000", 2),
        ("9999999.99", 2),
        ("10000000", 3),
        ("24999999.99", 3),
        ("25000000", 4),
        ("38200000", 4),
        ("49999999.99", 4),
        ("50000000", 5),
    ],
)
def test_the_seeded_thresholds_suggest_a_score_at_their_edges(db, spend, score):
    plan_reference_load()

    assert suggested_volume_score(Decimal(spend)).score == score


def test_the_secretariat_moves_a_threshold_and_the_suggestion_follows(db):
    plan_reference_load()
    assert suggested_volume_score(Decimal("30000000")).score == 4

    VolumeScoreThreshold.objects.filter(score=4).update(min_annual_spend=Decimal("35000000"))

    assert suggested_volume_score(Decimal("30000000")).score == 3


def test_a_credit_balance_suggests_nothing(db):
    plan_reference_load()

    assert suggested_volume_score(Decimal("-5")) is None


# The pages ---------------------------------------------------------------------------------------


def _candidate(ledger, actor, code="33140000"):
    from rfi.models import Category
    from tenders import services

    return services.candidate_create(
        actor=actor,
        title="Sårpleje",
        category=Category.objects.get(code=code),
        plan_year=2027,
    )


def test_the_candidate_page_shows_every_regions_figures_to_the_ufo_group(ledger, ufo_member):
    candidate = _candidate(ledger, ufo_member)

    page = text_of(client_for(ufo_member).get(reverse("tenders:candidate", args=[candidate.pk])))

    assert "Spend figures come from the spend module" not in page
    assert "Tal pr. feb. 2026" in page
    assert "Region Midtjylland 25.000 kr. 80,0 % 2" in page
    assert "Region Syddanmark 40.000 kr. 0,0 % 1" in page
    assert "Region Hovedstaden 0 kr. – 0" in page
    assert "Alle regioner 65.000 kr. 30,8 % 2" in page
    assert "Alle regioner 70.000 kr. 42,9 % 2" in page  # the year 2025
    assert "Beta Sår ApS 45.000 kr. (69,2 %)" in page
    assert "Foreslået volumenscore: 1 (årligt forbrug 65.000 kr.)" in page
    assert "Sårpleje RM" in page and "Medico RSD" in page and "Lang RH" not in page


def test_an_officer_sees_only_their_own_regions_figures(ledger, officer_rsd, ufo_member):
    candidate = _candidate(ledger, ufo_member)

    page = text_of(client_for(officer_rsd).get(reverse("tenders:candidate", args=[candidate.pk])))

    assert "Region Syddanmark 40.000 kr. 0,0 % 1" in page
    assert "Region Midtjylland" not in page
    assert "Alle regioner" not in page and "Beta Sår ApS" not in page
    assert "Foreslået volumenscore" not in page
    assert "Medico RSD" in page and "Sårpleje RM" not in page


def test_the_score_form_suggests_the_volume_score_and_the_scorer_may_differ(
    ledger, ufo_member, regions
):
    # 38.135.000 more at RSD: 38.200.000 kr. in the last 12 months, score 4.
    data.lines(
        ledger["rsd"],
        {"posting_date": D(2025, 12, 1), "category": data.category("33141110"), "amount": 38135000},
    )
    candidate = _candidate(ledger, ufo_member)
    client = client_for(ufo_member)
    url = reverse("tenders:candidate_score", args=[candidate.pk])

    page = text_of(client.get(url))
    assert "Forslag: 4 (årligt forbrug 38,2 mio. kr.)" in page

    response = client.post(
        url,
        {
            "score_volume-savings": "2",
            "score_tender-history": "3",
            "score_complexity": "3",
            "score_market-analysis": "3",
            "with_other_body": "no",
        },
    )
    assert response.status_code == 302
    sheet = candidate.score_sheets.get()
    assert sheet.scores.get(criterion__code="volume-savings").value == 2


# The proposal from the off-contract page ---------------------------------------------------------


def test_propose_from_off_contract_spend_carries_the_figures(ledger, ufo_member, regions):
    client = client_for(ufo_member)
    off_contract = client.get(
        reverse("spend:off_contract"), {"region": "RM", "year": 2026, "depth": 4}
    )
    link = next(
        row["candidate_url"]
        for row in off_contract.context["category_table"].rows
        if row["code"] == "33140000"
    )

    form = client.get(link)
    form_page = text_of(form)
    assert form.context["form"]["category"].value() == "33140000"
    assert "Region Midtjylland 25.000 kr. 80,0 % 2" in form_page

    created = client.post(link, {"title": "Sårpleje", "category": "33140000", "plan_year": "2027"})
    candidate = CandidateArea.objects.get()
    assert created.status_code == 302
    snapshot = candidate.screening_at_proposal
    assert snapshot["as_of_month"] == "2026-02"
    assert snapshot["last_12_months"]["total"]["spend"] == "65000.00"

    # A later ledger line changes the live figures, not the proposal's.
    data.lines(
        ledger["rm"],
        {"posting_date": D(2026, 2, 20), "category": data.category("33141110"), "amount": 1000},
    )
    page = text_of(client.get(reverse("tenders:candidate", args=[candidate.pk])))
    assert "Alle regioner 66.000 kr." in page
    assert "Tal da området blev foreslået" in page
    assert "65.000 kr. de seneste 12 måneder, alle regioner" in page


# The API -------------------------------------------------------------------------------------------


def test_the_api_gives_the_same_figures_and_the_suggestion(ledger, ufo_member, officer_rsd):
    candidate = _candidate(ledger, ufo_member)
    url = reverse("candidate-screening", kwargs={"pk": candidate.pk})

    body = client_for(ufo_member).get(url).json()

    current = body["current"]
    assert current["as_of_month"] == "2026-02"
    last_12 = current["last_12_months"]
    rm = next(row for row in last_12["regions"] if row["region"] == "RM")
    assert (rm["spend"], rm["on_contract_share"], rm["suppliers"]) == ("25000.00", "80.0", 2)
    assert last_12["total"]["spend"] == "65000.00"
    assert [s["supplier_id"] for s in last_12["top_suppliers"]] == [B, A]
    assert current["full_year"] == 2025
    assert current["last_full_year"]["total"]["spend"] == "70000.00"
    assert [c["title"] for c in current["contracts_ending"]] == ["Sårpleje RM", "Medico RSD"]
    assert body["suggestion"] == {
        "criterion": "volume-savings",
        "score": 1,
        "annual_spend": "65000.00",
    }
    assert body["at_proposal"] is None  # proposed through the service, without figures

    officer = client_for(officer_rsd).get(url).json()
    assert [row["region"] for row in officer["current"]["last_12_months"]["regions"]] == ["RSD"]
    assert officer["current"]["last_12_months"]["total"] is None
    assert officer["suggestion"] is None


def test_the_screening_reads_as_many_queries_for_eight_regions_as_for_five(ledger, ufo_member):
    candidate = _candidate(ledger, ufo_member)
    url = reverse("candidate-screening", kwargs={"pk": candidate.pk})
    client = client_for(ufo_member)
    client.get(url)  # the session and the rubric once, so both counts see the same

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    five = queries()
    for code in ("SE1", "SE2", "SE3"):
        region = RegionFactory(code=code)
        data.contract(region, A, D(2025, 1, 1), D(2026, 6, 30), code="33140000", title=code)
        batch = data.batch(region)
        data.lines(
            batch,
            {"posting_date": D(2025, 6, 10), "supplier_id": A, "category_code": "33141110"},
        )
        matching.after_lines_loaded(batch)

    body = client.get(url).json()
    assert len(body["current"]["last_12_months"]["regions"]) == 8
    assert queries() == five


def test_a_candidate_proposed_through_the_api_keeps_the_figures(ledger, ufo_member):
    client = client_for(ufo_member)

    response = client.post(
        reverse("candidate-list"),
        {"title": "Sårpleje", "category": "33140000", "plan_year": 2027},
        content_type="application/json",
    )

    assert response.status_code == 201
    screening = client.get(
        reverse("candidate-screening", kwargs={"pk": response.json()["id"]})
    ).json()
    assert screening["at_proposal"]["last_12_months"]["total"]["spend"] == "65000.00"


def test_the_screening_answer_matches_the_openapi_schema(ledger, ufo_member, officer_rsd):
    import jsonschema

    from tests.tenders.test_api import _as_json_schema

    client = client_for(ufo_member)
    created = client.post(
        reverse("candidate-list"),
        {"title": "Sårpleje", "category": "33140000", "plan_year": 2027},
        content_type="application/json",
    ).json()
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    root = {
        "components": _as_json_schema(schema["components"]),
        "$ref": "#/components/schemas/CandidateScreening",
    }
    url = reverse("candidate-screening", kwargs={"pk": created["id"]})

    for user in (ufo_member, officer_rsd):
        jsonschema.validate(client_for(user).get(url).json(), root)
