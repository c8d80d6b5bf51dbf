"""The joint tender plan over the REST API: filters, rights as in the browser, service errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import jsonschema
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from rfi.models import Category, Membership
from rfi.services import api_token_issue
from tenders import services
from tenders.models import (
    CandidateArea,
    OptOutReason,
    Participation,
    SavingsMethod,
    SavingsRecord,
    ScoreSheet,
    TenderCase,
)
from tenders.reference import plan_reference_load
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Regionen har en gældende aftale med en anden leverandør til og med 2027."


@pytest.fixture
def plan_reference(db):
    plan_reference_load()


@pytest.fixture
def catheters(db) -> Category:
    division, _ = Category.objects.get_or_create(
        code="33000000",
        defaults={"check_digit": "0", "label_en": "Medical", "label_da": "Medicinsk", "level": 1},
    )
    category, _ = Category.objects.get_or_create(
        code="33141200",
        defaults={
            "check_digit": "2",
            "label_en": "Catheters",
            "label_da": "Katetre",
            "level": 5,
            "parent": division,
        },
    )
    return category


def make_tender(actor, category, lead, **fields) -> TenderCase:
    defaults = {
        "title": "Katetre",
        "category": category,
        "area": TenderCase.Area.MEDICO_ACQUISITIONS,
        "kind": TenderCase.Kind.FRAMEWORK,
        "has_options": True,
        "lead_region": lead,
    }
    return services.tender_create(actor=actor, **{**defaults, **fields})


def participation_of(tender: TenderCase, code: str) -> Participation:
    return tender.participations.get(region__code=code)


@pytest.fixture
def plan(plan_reference, catheters, regions, officer_rm, officer_rsd, secretariat):
    """Three cases: RM leads a planned one (RSD joins), an in-tender one, and RSD's own."""
    planned = make_tender(
        officer_rm, catheters, regions["RM"], title="Katetre", internal_notes="Intern"
    )
    in_tender = make_tender(
        officer_rm,
        catheters,
        regions["RM"],
        title="Sonder",
        status=TenderCase.Status.IN_TENDER,
        publication_date=dt.date(2026, 3, 1),
    )
    own = make_tender(officer_rsd, catheters, regions["RSD"], title="Dræn")
    services.participation_decide(
        participation=participation_of(planned, "RSD"), actor=officer_rsd, status="full"
    )
    return {"planned": planned, "in_tender": in_tender, "own": own}


def references(response) -> set[str]:
    return {row["reference"] for row in response.json()["results"]}


# Tender cases ------------------------------------------------------------------------------------


def test_list_and_filter_tenders_by_status_and_participating_region(plan, chief):
    client = client_for(chief)
    url = reverse("tender-list")

    everything = client.get(url)
    in_tender = client.get(url, {"status": "in_tender"})
    rsd_takes_part = client.get(url, {"participating_region": "RSD"})
    both = client.get(url, {"status": "planned", "participating_region": "RSD"})

    assert everything.status_code == 200 and everything.json()["count"] == 3
    assert references(in_tender) == {plan["in_tender"].reference}
    assert references(rsd_takes_part) == {plan["planned"].reference}
    assert references(both) == {plan["planned"].reference}
    row = everything.json()["results"][0]
    assert {p["region"] for p in row["participations"]} == {"RH", "RM", "RN", "RSD", "RSJ"}


def test_a_member_reads_a_case_by_reference_with_its_internal_notes(plan, ufo_member):
    tender = plan["planned"]

    response = client_for(ufo_member).get(
        reverse("tender-detail", kwargs={"reference": tender.reference})
    )

    body = response.json()
    assert body["title"] == "Katetre" and body["lead_region"] == "RM"
    assert body["category"] == "33141200" and body["internal_notes"] == "Intern"


def test_an_unknown_reference_is_404(plan, chief):
    response = client_for(chief).get(reverse("tender-detail", kwargs={"reference": "FUP-1999-999"}))

    assert response.status_code == 404


def test_an_officer_logs_a_case_through_the_api(plan_reference, catheters, regions, officer_rm):
    response = client_for(officer_rm).post(
        reverse("tender-list"),
        {
            "title": "Urinposer",
            "category": "33141200-2",
            "area": "medico_acquisitions",
            "kind": "framework",
            "lead_region": "RM",
            "estimated_annual_value": "2500000.00",
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    tender = TenderCase.objects.get(reference=response.json()["reference"])
    assert tender.estimated_annual_value == Decimal("2500000.00")
    assert tender.participations.filter(status=Participation.Status.PENDING).count() == 5


def test_an_officer_cannot_log_a_case_for_another_region(plan_reference, catheters, officer_rsd):
    response = client_for(officer_rsd).post(
        reverse("tender-list"),
        {
            "title": "Urinposer",
            "category": "33141200",
            "area": "medico_acquisitions",
            "kind": "framework",
            "lead_region": "RM",
        },
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not TenderCase.objects.exists()


def test_milestones_out_of_order_answer_400_by_field(plan, officer_rm):
    tender = plan["in_tender"]

    response = client_for(officer_rm).patch(
        reverse("tender-detail", kwargs={"reference": tender.reference}),
        {"award_date": "2026-02-01"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "award_date" in response.json()
    tender.refresh_from_db()
    assert tender.award_date is None


def test_only_the_lead_regions_officers_edit_a_case(plan, officer_rsd, officer_rm):
    tender = plan["planned"]
    url = reverse("tender-detail", kwargs={"reference": tender.reference})

    refused = client_for(officer_rsd).patch(url, {"title": "X"}, content_type="application/json")
    accepted = client_for(officer_rm).patch(
        url, {"title": "Katetre og sonder"}, content_type="application/json"
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200 and accepted.json()["title"] == "Katetre og sonder"


# Participation -------------------------------------------------------------------------------


def test_an_officer_cannot_patch_another_regions_participation(plan, officer_rsd):
    rm = participation_of(plan["own"], "RM")

    response = client_for(officer_rsd).patch(
        reverse("participation-detail", kwargs={"pk": rm.pk}),
        {"status": "full"},
        content_type="application/json",
    )

    assert response.status_code == 403
    rm.refresh_from_db()
    assert rm.status == Participation.Status.PENDING and rm.decided_by is None


def test_an_opt_out_without_justification_is_400_naming_the_field(plan, officer_rm):
    rm = participation_of(plan["own"], "RM")

    response = client_for(officer_rm).patch(
        reverse("participation-detail", kwargs={"pk": rm.pk}),
        {"status": "opted_out", "opt_out_reason": "clinical-needs", "justification": "Nej"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "justification" in response.json()
    assert "følg eller forklar" in response.json()["justification"][0].lower()
    rm.refresh_from_db()
    assert rm.status == Participation.Status.PENDING


def test_an_opt_out_with_justification_is_recorded(plan, officer_rm):
    rm = participation_of(plan["own"], "RM")

    response = client_for(officer_rm).patch(
        reverse("participation-detail", kwargs={"pk": rm.pk}),
        {"status": "opted_out", "opt_out_reason": "clinical-needs", "justification": JUSTIFICATION},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "opted_out"
    assert response.json()["decided_by"] == "officer_rm"
    rm.refresh_from_db()
    assert rm.opt_out_reason == OptOutReason.objects.get(code="clinical-needs")


def test_participations_filter_by_tender_region_and_status(plan, chief):
    client = client_for(chief)
    url = reverse("participation-list")

    of_planned = client.get(url, {"tender": plan["planned"].reference})
    rsd_full = client.get(url, {"region": "RSD", "status": "full"})

    assert of_planned.json()["count"] == 5
    assert [(p["tender"], p["region"]) for p in rsd_full.json()["results"]] == [
        (plan["planned"].reference, "RSD")
    ]


def test_an_option_participant_exercises_the_option(plan, officer_rsd):
    rsd = participation_of(plan["in_tender"], "RSD")
    services.participation_decide(
        participation=rsd,
        actor=officer_rsd,
        status="option",
        option_expected_join=dt.date(2027, 1, 1),
    )

    response = client_for(officer_rsd).post(
        reverse("participation-exercise-option", kwargs={"pk": rsd.pk}),
        {"exercised_on": "2027-01-15"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["option_exercised_on"] == "2027-01-15"


# UFO -----------------------------------------------------------------------------------------


@pytest.fixture
def candidate(plan_reference, catheters, officer_rm) -> CandidateArea:
    return services.candidate_create(
        actor=officer_rm, title="Katetre", category=catheters, plan_year=2027
    )


def sheet_body(candidate, value=4, **extra) -> dict:
    codes = ["volume-savings", "tender-history", "complexity", "market-analysis"]
    scores = [{"criterion": code, "value": value, "comment": "Stor volumen"} for code in codes]
    return {"candidate": candidate.pk, "scores": scores, "with_other_body": "no", **extra}


def test_a_ufo_member_scores_through_the_api_and_can_replace_the_sheet(candidate, ufo_member):
    client = client_for(ufo_member)
    url = reverse("scoresheet-list")

    first = client.post(url, sheet_body(candidate, 4), content_type="application/json")
    second = client.post(
        url,
        sheet_body(candidate, 2, with_other_body="yes", other_body="SKI"),
        content_type="application/json",
    )

    assert first.status_code == 201 and second.status_code == 200
    sheet = ScoreSheet.objects.get()
    assert {s.value for s in sheet.scores.all()} == {2} and sheet.other_body.code == "SKI"
    listed = client.get(url, {"candidate": candidate.pk}).json()["results"]
    assert [(s["scorer"], len(s["scores"])) for s in listed] == [("ufo_rm", 4)]
    detail = client.get(reverse("candidate-detail", kwargs={"pk": candidate.pk})).json()
    assert detail["weighted_mean"] == 2.0 and detail["score_sheets"] == 1


def test_a_score_out_of_range_is_400(candidate, ufo_member):
    response = client_for(ufo_member).post(
        reverse("scoresheet-list"), sheet_body(candidate, 6), content_type="application/json"
    )

    assert response.status_code == 400 and "scores" in response.json()
    assert not ScoreSheet.objects.exists()


def test_a_missing_criterion_is_400_under_scores(candidate, ufo_member):
    body = sheet_body(candidate)
    body["scores"] = body["scores"][:3]

    response = client_for(ufo_member).post(
        reverse("scoresheet-list"), body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "Markedsanalyse" in response.json()["scores"][0]


@pytest.mark.parametrize("persona", ["officer_rm", "chief", "secretariat"])
def test_only_ufo_members_score_through_the_api(candidate, persona, request):
    user = request.getfixturevalue(persona)

    response = client_for(user).post(
        reverse("scoresheet-list"), sheet_body(candidate), content_type="application/json"
    )

    assert response.status_code == 403
    assert not ScoreSheet.objects.exists()


def test_recommend_then_the_chiefs_vote_through_the_api(candidate, ufo_member, chiefs, regions):
    services.score_sheet_submit(
        candidate=candidate,
        scorer=ufo_member,
        scores=dict.fromkeys(
            ["volume-savings", "tender-history", "complexity", "market-analysis"], (4, "")
        ),
    )
    recommend = client_for(ufo_member).post(
        reverse("candidate-recommend", kwargs={"pk": candidate.pk})
    )
    assert recommend.status_code == 200 and recommend.json()["status"] == "recommended"
    url = reverse("candidate-decide", kwargs={"pk": candidate.pk})

    first = client_for(chiefs["RM"]).post(
        url, {"decision": "approve"}, content_type="application/json"
    )
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "recommended"
    assert [(v["region"], v["decision"], v["voted_by"]) for v in first.json()["votes"]] == [
        ("RM", "approve", "chief_rm")
    ]
    for code in ("RH", "RN", "RSD", "RSJ"):
        response = client_for(chiefs[code]).post(
            url, {"decision": "approve"}, content_type="application/json"
        )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "approved" and body["decided_by"] == "chief_rsj"
    assert len(body["votes"]) == 5
    tender = TenderCase.objects.get(reference=body["tender"])
    assert tender.reference.startswith(f"FUP-{candidate.plan_year}-")
    assert set(tender.participations.values_list("status", flat=True)) == {"pending"}
    assert tender.participations.count() == 5


def test_the_secretariat_records_a_meeting_decision_through_the_api(
    candidate, ufo_member, secretariat, regions
):
    services.score_sheet_submit(
        candidate=candidate,
        scorer=ufo_member,
        scores=dict.fromkeys(
            ["volume-savings", "tender-history", "complexity", "market-analysis"], (4, "")
        ),
    )
    services.candidate_recommend(candidate=candidate, actor=ufo_member)
    url = reverse("candidate-decide", kwargs={"pk": candidate.pk})

    missing = client_for(secretariat).post(
        url, {"decision": "approve"}, content_type="application/json"
    )
    response = client_for(secretariat).post(
        url,
        {
            "decision": "approve",
            "lead_region": "RSD",
            "meeting_date": "2026-11-20",
            "minutes_reference": "IC 20-11-2026 pkt. 2",
        },
        content_type="application/json",
    )

    assert missing.status_code == 400 and {"meeting_date", "minutes_reference"} <= set(
        missing.json()
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "approved" and body["meeting_date"] == "2026-11-20"
    assert TenderCase.objects.get(reference=body["tender"]).lead_region == regions["RSD"]


def test_an_officer_cannot_decide_through_the_api(candidate, ufo_member, officer_rm):
    services.score_sheet_submit(
        candidate=candidate,
        scorer=ufo_member,
        scores=dict.fromkeys(
            ["volume-savings", "tender-history", "complexity", "market-analysis"], (3, "")
        ),
    )
    services.candidate_recommend(candidate=candidate, actor=ufo_member)

    response = client_for(officer_rm).post(
        reverse("candidate-decide", kwargs={"pk": candidate.pk}),
        {"decision": "approve", "lead_region": "RM"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not TenderCase.objects.exists()


def test_a_chief_rejecting_without_reason_gets_400(candidate, ufo_member, chief):
    services.score_sheet_submit(
        candidate=candidate,
        scorer=ufo_member,
        scores=dict.fromkeys(
            ["volume-savings", "tender-history", "complexity", "market-analysis"], (3, "")
        ),
    )
    services.candidate_recommend(candidate=candidate, actor=ufo_member)

    response = client_for(chief).post(
        reverse("candidate-decide", kwargs={"pk": candidate.pk}),
        {"decision": "reject"},
        content_type="application/json",
    )

    assert response.status_code == 400 and "reason" in response.json()


def test_deciding_a_candidate_not_recommended_is_400(candidate, chief):
    response = client_for(chief).post(
        reverse("candidate-decide", kwargs={"pk": candidate.pk}),
        {"decision": "approve", "lead_region": "RM"},
        content_type="application/json",
    )

    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_a_candidate_is_proposed_for_ones_own_region_only(plan_reference, catheters, officer_rm):
    client = client_for(officer_rm)
    body = {"title": "Handsker", "category": "33141200-2", "plan_year": 2027}

    own = client.post(
        reverse("candidate-list"),
        {**body, "proposer_region": "RM"},
        content_type="application/json",
    )
    other = client.post(
        reverse("candidate-list"),
        {**body, "proposer_region": "RSD"},
        content_type="application/json",
    )

    assert own.status_code == 201 and own.json()["proposer_region"] == "RM"
    assert other.status_code == 400 and "proposer_region" in other.json()


# Savings -------------------------------------------------------------------------------------


def test_savings_are_recorded_for_ones_own_region_after_award(plan, officer_rm, officer_rsd):
    tender = plan["in_tender"]
    services.tender_update(tender=tender, actor=officer_rm, award_date=dt.date(2026, 6, 1))
    body = {
        "tender": tender.reference,
        "region": "RM",
        "baseline_annual_cost": "1000000.00",
        "new_annual_cost": "850000.00",
        "method": "same-volume",
    }

    refused = client_for(officer_rsd).post(
        reverse("savings-list"), body, content_type="application/json"
    )
    recorded = client_for(officer_rm).post(
        reverse("savings-list"), body, content_type="application/json"
    )

    assert refused.status_code == 403
    assert recorded.status_code == 201
    assert recorded.json()["annual_saving"] == "150000.00"
    assert recorded.json()["price_reduction"] == 0.15
    listed = client_for(officer_rsd).get(reverse("savings-list"), {"region": "RM"}).json()
    assert [r["tender"] for r in listed["results"]] == [tender.reference]


def test_savings_before_award_are_400(plan, officer_rm):
    response = client_for(officer_rm).post(
        reverse("savings-list"),
        {
            "tender": plan["planned"].reference,
            "region": "RM",
            "baseline_annual_cost": "100.00",
            "new_annual_cost": "90.00",
            "method": SavingsMethod.objects.first().code,
        },
        content_type="application/json",
    )

    assert response.status_code == 400 and "tender" in response.json()
    assert not SavingsRecord.objects.exists()


# Authentication and access ----------------------------------------------------------------------


def test_token_authentication(plan, officer_rm):
    token, _record = api_token_issue(user=officer_rm)
    client = APIClient()

    refused = client.get(reverse("tender-list"), HTTP_AUTHORIZATION="Token wrong")
    accepted = client.get(reverse("tender-list"), HTTP_AUTHORIZATION=f"Token {token}")

    # SessionAuthentication comes first in the settings, so DRF answers 403 rather than 401.
    assert refused.status_code in {401, 403} and "results" not in refused.json()
    assert accepted.status_code == 200 and accepted.json()["count"] == 3


def test_token_writes_are_in_the_history_under_the_user(plan, officer_rm):
    token, _record = api_token_issue(user=officer_rm)
    rm = participation_of(plan["own"], "RM")

    APIClient().patch(
        reverse("participation-detail", kwargs={"pk": rm.pk}),
        {"status": "full"},
        format="json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )

    rm.refresh_from_db()
    assert rm.status == Participation.Status.FULL
    assert rm.history.first().history_user == officer_rm


LISTS = ["tender-list", "participation-list", "candidate-list", "scoresheet-list", "savings-list"]


@pytest.mark.parametrize("name", LISTS)
def test_an_outsider_without_a_role_gets_403_on_every_list(plan, outsider, name):
    response = client_for(outsider).get(reverse(name))

    assert response.status_code == 403


@pytest.mark.parametrize("name", LISTS)
def test_a_member_in_a_deactivated_region_gets_403(plan, regions, name):
    user = MembershipFactory(
        user__username="former", region=regions["RN"], role=Membership.Role.CHIEF
    ).user
    regions["RN"].active = False
    regions["RN"].save()

    response = client_for(user).get(reverse(name))

    assert response.status_code == 403


# The OpenAPI schema against real answers -------------------------------------------------------


def _as_json_schema(node):
    """OpenAPI 3.0 ``nullable: true`` → JSON Schema's null type, recursively."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture
def response_validator(plan, chief):
    """Validate a JSON body against a component of the project's own /api/schema/."""
    schema = client_for(chief).get(reverse("schema"), {"format": "json"}).json()
    components = _as_json_schema(schema["components"])

    def validate(body, component: str) -> None:
        root = {"components": components, "$ref": f"#/components/schemas/{component}"}
        jsonschema.validate(body, root)

    return validate


def test_answers_with_real_data_match_the_openapi_schema(
    plan, response_validator, officer_rm, officer_rsd, ufo_member, chief, catheters
):
    # given: a case with an opt-out, an option, a decided candidate area and a saving
    own = plan["own"]
    services.participation_decide(
        participation=participation_of(own, "RM"),
        actor=officer_rm,
        status="opted_out",
        reason=OptOutReason.objects.get(code="existing-contract"),
        justification=JUSTIFICATION,
        existing_contract_end=dt.date(2027, 12, 31),
    )
    tender = plan["in_tender"]
    services.tender_update(tender=tender, actor=officer_rm, award_date=dt.date(2026, 6, 1))
    services.savings_record(
        tender=tender,
        region=tender.lead_region,
        actor=officer_rm,
        baseline_annual_cost=Decimal("100.00"),
        new_annual_cost=Decimal("90.00"),
        method=SavingsMethod.objects.first(),
    )
    candidate = services.candidate_create(
        actor=officer_rm, title="Handsker", category=catheters, plan_year=2027
    )
    services.score_sheet_submit(
        candidate=candidate,
        scorer=ufo_member,
        scores=dict.fromkeys(
            ["volume-savings", "tender-history", "complexity", "market-analysis"], (3, "")
        ),
    )
    services.candidate_create(actor=officer_rm, title="Sonder", category=catheters, plan_year=2028)
    client = client_for(chief)

    # then every list and detail answer matches its documented shape
    for name, component in (
        ("tender-list", "PaginatedTenderList"),
        ("participation-list", "PaginatedParticipationList"),
        ("candidate-list", "PaginatedCandidateList"),
        ("scoresheet-list", "PaginatedScoreSheetList"),
        ("savings-list", "PaginatedSavingsRecordList"),
    ):
        body = client.get(reverse(name)).json()
        assert body["count"] > 0, name
        response_validator(body, component)
    detail = client.get(reverse("tender-detail", kwargs={"reference": own.reference})).json()
    response_validator(detail, "Tender")
