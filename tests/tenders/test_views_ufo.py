"""The UFO pages (ranking, scoring, the chiefs' decisions) and the savings pages, in the browser."""

from __future__ import annotations

import datetime as dt
import re
import smtplib
from decimal import Decimal
from html import unescape
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from rfi import reminders
from rfi.models import Category, Membership, PartnerBody
from tenders import services
from tenders.models import (
    CandidateArea,
    Participation,
    PlanSettings,
    SavingsMethod,
    SavingsRecord,
    ScoreSheet,
    ScoringCriterion,
    TenderCase,
)
from tenders.reference import plan_reference_load
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

# Custom weights: volume counts three times, tender history once (total weight 8).
WEIGHTS = {
    "volume-savings": Decimal("3"),
    "tender-history": Decimal("1"),
    "complexity": Decimal("2"),
    "market-analysis": Decimal("2"),
}
CODES = list(WEIGHTS)


@pytest.fixture
def plan_reference(db):
    plan_reference_load()
    for code, weight in WEIGHTS.items():
        ScoringCriterion.objects.filter(code=code).update(weight=weight)


@pytest.fixture
def cpv(db) -> dict[str, Category]:
    """Division 33, its groups 331 (medical equipment) and 336 (pharmaceuticals), and leaves."""

    def make(code, check, label, level, parent=None):
        return Category.objects.get_or_create(
            code=code,
            defaults={
                "check_digit": check,
                "label_da": label,
                "label_en": label,
                "level": level,
                "parent": parent,
            },
        )[0]

    division = make("33000000", "0", "Medicinsk udstyr", 1)
    group = make("33100000", "1", "Medicinsk udstyr (gruppe)", 2, division)
    pharma = make("33600000", "6", "Farmaceutiske produkter", 2, division)
    return {
        "division": division,
        "disposables": make("33141000", "0", "Engangsartikler", 4, group),
        "catheters": make("33141200", "2", "Katetre", 5, group),
        "pharma": make("33690000", "3", "Diverse lægemidler", 3, pharma),
    }


@pytest.fixture
def ufo_rsd(regions):
    return MembershipFactory(
        user__username="ufo_rsd", region=regions["RSD"], role=Membership.Role.UFO
    ).user


@pytest.fixture
def ufo_rh(regions):
    """A UFO member who never scores anything in these tests."""
    return MembershipFactory(
        user__username="ufo_rh",
        user__first_name="Birgitte",
        user__last_name="Nielsen",
        region=regions["RH"],
        role=Membership.Role.UFO,
    ).user


def make_candidate(cpv, title="Sårpleje", year=2027, category="disposables", **fields):
    return CandidateArea.objects.create(
        title=title, category=cpv[category], plan_year=year, **fields
    )


def score(candidate, scorer, values, **fields):
    scores = {
        code: (value, f"Kommentar til {code}") for code, value in zip(CODES, values, strict=True)
    }
    return services.score_sheet_submit(candidate=candidate, scorer=scorer, scores=scores, **fields)


def text_of(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", unescape(html))


def row_with(response, needle: str) -> str:
    """The visible text of the table row that contains ``needle``."""
    for row in re.findall(r"<tr>.*?</tr>", response.content.decode(), flags=re.S):
        if needle in unescape(row):
            return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row))).strip()
    raise AssertionError(f"no table row contains {needle!r}")


def score_post(values: dict[str, str], **extra) -> dict[str, str]:
    data = {"with_other_body": "no", "other_body": "", "other_body_comment": ""}
    for code, value in values.items():
        data[f"score_{code}"] = value
        data[f"comment_{code}"] = ""
    return {**data, **extra}


# The ranking -----------------------------------------------------------------------------------


def test_ranking_by_weighted_mean_with_spread_and_missing_scorers(
    plan_reference, cpv, ufo_member, ufo_rsd, ufo_rh, officer_rm
):
    # given: unweighted, "Katetre" would lead (2,375 against 2,75); weighted, "Sårpleje" leads
    wound = make_candidate(cpv, "Sårpleje")
    catheters = make_candidate(cpv, "Katetre", category="catheters")
    make_candidate(cpv, "Handsker")
    score(wound, ufo_member, [5, 1, 1, 1])  # (15+1+2+2)/8 = 2,5
    score(wound, ufo_rsd, [3, 2, 3, 3])  # (9+2+6+6)/8 = 2,875
    score(catheters, ufo_member, [1, 4, 3, 3])  # (3+4+6+6)/8 = 2,375

    # when
    response = client_for(officer_rm).get(reverse("tenders:candidates"))

    # then
    assert response.status_code == 200
    page = text_of(response)
    assert page.index("Sårpleje") < page.index("Katetre") < page.index("Handsker")
    wound_row = row_with(response, "Sårpleje")
    assert wound_row.startswith("1 Sårpleje 33141000-0 2027 2,7 0,4 2 Birgitte Nielsen")
    catheters_row = row_with(response, "Katetre")
    assert catheters_row.startswith("2 Katetre 33141200-2 2027 2,4 0,0 1")
    assert "Birgitte Nielsen, ufo_rsd" in catheters_row
    assert "ikke scoret" in row_with(response, "Handsker")


def test_ranking_filters_by_plan_year(plan_reference, cpv, officer_rm):
    make_candidate(cpv, "Sårpleje", year=2027)
    make_candidate(cpv, "Infusionspumper", year=2028)

    response = client_for(officer_rm).get(reverse("tenders:candidates"), {"year": "2028"})

    rows = response.content.decode()
    assert "Infusionspumper" in rows and "Sårpleje" not in rows.split("ranking-heading")[1]


def test_the_annual_cycle_box_shows_the_deadline_and_the_counts(plan_reference, cpv, chief):
    today = timezone.localdate()
    make_candidate(cpv, "Sårpleje", year=today.year + 1)
    make_candidate(cpv, "Katetre", year=today.year + 1, status=CandidateArea.Status.RECOMMENDED)

    response = client_for(chief).get(reverse("tenders:candidates"))

    page = text_of(response)
    assert (
        f"Anbefalinger for planår {today.year + 1} skal være klar i 1. kvartal {today.year}: "
        f"frist 31-03-{today.year}" in page
    )
    assert "Under scoring 1" in page and "Indstillet til indkøbscheferne 1" in page
    # A chief can read the list but not propose (UFO members, officers and the secretariat do).
    assert "Nyt kandidatområde" not in page


# Proposing a candidate area ---------------------------------------------------------------


def test_an_officer_proposes_a_candidate_by_cpv_code_with_check_digit(cpv, officer_rm, regions):
    client = client_for(officer_rm)
    assert "Nyt kandidatområde" in text_of(client.get(reverse("tenders:candidates")))

    response = client.post(
        reverse("tenders:candidate_create"),
        {
            "title": "Engangsartikler til sårpleje",
            "category": "33141000-0",
            "description": "Fælles behov i alle regioner.",
            "plan_year": "2027",
            "proposer_region": regions["RM"].pk,
        },
    )

    candidate = CandidateArea.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tenders:candidate", kwargs={"pk": candidate.pk})
    assert candidate.category == cpv["disposables"]
    assert candidate.proposer_region == regions["RM"]
    assert candidate.proposed_by == officer_rm


@pytest.mark.parametrize(
    ("code", "message"),
    [("33999999", "Ingen CPV-kategori har koden 33999999"), ("3314", "Angiv en 8-cifret CPV-kode")],
)
def test_an_unknown_cpv_code_is_refused(cpv, officer_rm, regions, code, message):
    response = client_for(officer_rm).post(
        reverse("tenders:candidate_create"),
        {"title": "Noget", "category": code, "plan_year": "2027"},
    )

    assert response.status_code == 200
    assert message in text_of(response)
    assert not CandidateArea.objects.exists()


def test_the_proposing_region_is_one_of_the_users_own(cpv, officer_rm, regions):
    response = client_for(officer_rm).post(
        reverse("tenders:candidate_create"),
        {
            "title": "Noget",
            "category": "33141000",
            "plan_year": "2027",
            "proposer_region": regions["RSD"].pk,
        },
    )

    assert response.status_code == 200
    assert not CandidateArea.objects.exists()


# Scoring -----------------------------------------------------------------------------------


def test_a_ufo_member_scores_through_the_form_and_sees_it_prefilled(
    plan_reference, cpv, ufo_member, regions
):
    candidate = make_candidate(cpv)
    ski = PartnerBody.objects.get(code="SKI")
    client = client_for(ufo_member)
    url = reverse("tenders:candidate_score", kwargs={"pk": candidate.pk})

    response = client.post(
        url,
        score_post(
            dict(zip(CODES, ["4", "3", "2", "5"], strict=True)),
            comment_complexity="Få leverandører",
            with_other_body="maybe",
            other_body=ski.pk,
            other_body_comment="SKI har en aftale på vej",
        ),
    )

    assert response.status_code == 302
    sheet = ScoreSheet.objects.get(candidate=candidate, scorer=ufo_member)
    assert {s.criterion.code: s.value for s in sheet.scores.all()} == dict(
        zip(CODES, [4, 3, 2, 5], strict=True)
    )
    assert sheet.with_other_body == ScoreSheet.OtherBody.MAYBE and sheet.other_body == ski
    form = client.get(url).content.decode()
    assert re.search(r'name="score_market-analysis" value="5"[^>]*checked', form)
    assert "Få leverandører" in form
    detail = text_of(client.get(reverse("tenders:candidate", kwargs={"pk": candidate.pk})))
    # (12+3+4+10)/8 = 3,625
    assert "vægtet gennemsnit 3,6" in detail
    assert "Få leverandører" in detail and "Værd at undersøge" in detail
    assert "SKI har en aftale på vej" in detail


@pytest.mark.parametrize("persona", ["officer_rm", "chief", "secretariat"])
def test_only_ufo_members_may_score(plan_reference, cpv, persona, request):
    user = request.getfixturevalue(persona)
    candidate = make_candidate(cpv)
    url = reverse("tenders:candidate_score", kwargs={"pk": candidate.pk})

    response = client_for(user).post(url, score_post(dict.fromkeys(CODES, "4")))

    assert response.status_code == 403
    assert not ScoreSheet.objects.exists()


def test_a_score_out_of_range_is_refused(plan_reference, cpv, ufo_member):
    candidate = make_candidate(cpv)
    values = dict.fromkeys(CODES, "3") | {"tender-history": "6"}

    response = client_for(ufo_member).post(
        reverse("tenders:candidate_score", kwargs={"pk": candidate.pk}), score_post(values)
    )

    assert response.status_code == 200
    assert "Giv “Udbudshistorik” en score fra 1 til 5." in text_of(response)
    assert not ScoreSheet.objects.exists()


# Recommending and deciding ------------------------------------------------------------------


@pytest.fixture
def past_tenders(cpv, regions):
    """Two earlier tenders in CPV group 331 led by RSD, one by RM; three elsewhere by RH."""
    leads = [
        ("catheters", "RSD"),
        ("disposables", "RSD"),
        ("catheters", "RM"),
        ("pharma", "RH"),
        ("pharma", "RH"),
        ("pharma", "RH"),
    ]
    for n, (category, lead) in enumerate(leads, start=1):
        TenderCase.objects.create(
            reference=f"FUP-2019-{n:03d}",
            title=f"Tidligere udbud {n}",
            category=cpv[category],
            area=TenderCase.Area.MEDICO_ACQUISITIONS,
            kind=TenderCase.Kind.FRAMEWORK,
            lead_region=regions[lead],
            status=TenderCase.Status.ENDED,
        )


def test_recommend_then_every_chief_approves_and_the_suggested_lead_leads(
    plan_reference, cpv, ufo_member, chief, chiefs, regions, past_tenders
):
    # given: a scored candidate in CPV group 331
    candidate = make_candidate(cpv, "Sårpleje", category="disposables")
    score(candidate, ufo_member, [4, 4, 4, 4])
    ufo = client_for(ufo_member)

    # when the UFO member recommends it
    response = ufo.post(reverse("tenders:candidate_recommend", kwargs={"pk": candidate.pk}))

    # then it waits for the chiefs
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == CandidateArea.Status.RECOMMENDED

    # when a chief opens the decision page
    boss = client_for(chief)
    url = reverse("tenders:candidate_decide", kwargs={"pk": candidate.pk})
    page = boss.get(url).content.decode()

    # then RSD (two earlier tenders in group 331, against RH's three elsewhere) is suggested
    assert "Forslag: Region Syddanmark har ledet flest udbud i samme CPV-gruppe" in page

    # when RM's chief approves: one vote of five, so the area still waits
    response = boss.post(url, {"decision": "approve"})
    candidate.refresh_from_db()
    assert candidate.status == CandidateArea.Status.RECOMMENDED
    assert "Region Midtjylland" in text_of(boss.get(url))
    assert text_of(boss.get(url)).count("Ikke stemt endnu") == 4

    # when the other four chiefs approve too (unanimity, the default rule)
    for code in ("RH", "RN", "RSD", "RSJ"):
        response = client_for(chiefs[code]).post(url, {"decision": "approve"})

    # then a tender case exists in the target plan year, led by the suggested RSD,
    # with every active region pending and a deadline for the participation round
    candidate.refresh_from_db()
    tender = candidate.tender
    assert candidate.status == CandidateArea.Status.APPROVED
    assert response.status_code == 302
    assert response["Location"] == reverse("tenders:detail", kwargs={"reference": tender.reference})
    assert tender.reference.startswith(f"FUP-{candidate.plan_year}-")
    assert tender.decision_deadline == timezone.localdate() + dt.timedelta(days=56)
    assert tender.lead_region == regions["RSD"] and tender.category == cpv["disposables"]
    statuses = dict(tender.participations.values_list("region__code", "status"))
    assert statuses == dict.fromkeys(["RH", "RM", "RN", "RSD", "RSJ"], Participation.Status.PENDING)
    detail = text_of(boss.get(reverse("tenders:candidate", kwargs={"pk": candidate.pk})))
    assert tender.reference in detail and "chief_rm" in detail and "chief_rsj" in detail


def test_recommending_an_unscored_candidate_is_refused(plan_reference, cpv, ufo_member):
    candidate = make_candidate(cpv)
    client = client_for(ufo_member)

    response = client.post(
        reverse("tenders:candidate_recommend", kwargs={"pk": candidate.pk}), follow=True
    )

    candidate.refresh_from_db()
    assert candidate.status == CandidateArea.Status.SCREENING
    assert "Scor kandidatområdet, før det indstilles." in text_of(response)


@pytest.fixture
def recommended(plan_reference, cpv, ufo_member):
    candidate = make_candidate(cpv)
    score(candidate, ufo_member, [3, 3, 3, 3])
    return services.candidate_recommend(candidate=candidate, actor=ufo_member)


def test_rejecting_without_a_reason_is_refused(recommended, chief):
    url = reverse("tenders:candidate_decide", kwargs={"pk": recommended.pk})

    response = client_for(chief).post(url, {"decision": "reject", "reason": "  "})

    assert response.status_code == 200
    assert "Angiv årsagen til afvisningen." in text_of(response)
    recommended.refresh_from_db()
    assert recommended.status == CandidateArea.Status.RECOMMENDED


def test_one_chiefs_rejection_decides_under_unanimity(recommended, chief):
    url = reverse("tenders:candidate_decide", kwargs={"pk": recommended.pk})

    client_for(chief).post(url, {"decision": "reject", "reason": "Markedet er for lille."})

    recommended.refresh_from_db()
    assert recommended.status == CandidateArea.Status.REJECTED
    assert recommended.decision_reason == "RM: Markedet er for lille."
    assert recommended.decided_by == chief and not TenderCase.objects.exists()


def test_postponed_when_all_have_voted_and_one_postpones(recommended, chiefs):
    url = reverse("tenders:candidate_decide", kwargs={"pk": recommended.pk})
    response = client_for(chiefs["RM"]).post(
        url, {"decision": "postpone", "postpone_to_year": "2029", "reason": "Afvent ny MDR"}
    )
    recommended.refresh_from_db()
    assert recommended.status == CandidateArea.Status.RECOMMENDED  # four still to vote

    for code in ("RH", "RN", "RSD", "RSJ"):
        response = client_for(chiefs[code]).post(url, {"decision": "approve"})

    assert response.status_code == 302
    recommended.refresh_from_db()
    assert recommended.status == CandidateArea.Status.POSTPONED
    assert recommended.postponed_to_year == 2029
    page = text_of(client_for(chiefs["RM"]).get(response["Location"]))
    assert "Udskudt til planår 2029" in page and "RM: Afvent ny MDR" in page


def test_the_majority_rule_is_data(recommended, chiefs):
    PlanSettings.objects.update_or_create(pk=1, defaults={"decision_rule": "majority"})
    url = reverse("tenders:candidate_decide", kwargs={"pk": recommended.pk})
    client_for(chiefs["RH"]).post(url, {"decision": "reject", "reason": "For dyrt."})
    for code in ("RM", "RN"):
        client_for(chiefs[code]).post(url, {"decision": "approve"})
    recommended.refresh_from_db()
    assert recommended.status == CandidateArea.Status.RECOMMENDED  # 2 of 5 is no majority

    client_for(chiefs["RSD"]).post(url, {"decision": "approve"})

    recommended.refresh_from_db()
    assert recommended.status == CandidateArea.Status.APPROVED  # 3 of 5
    assert "RH: For dyrt." in recommended.decision_reason


def test_the_secretariat_records_a_meeting_decision_for_everyone(recommended, secretariat):
    url = reverse("tenders:candidate_decide", kwargs={"pk": recommended.pk})
    client = client_for(secretariat)

    refused = client.post(url, {"decision": "approve"})
    assert "Angiv datoen for indkøbschefernes møde." in refused.content.decode()

    client.post(
        url,
        {
            "decision": "postpone",
            "postpone_to_year": "2029",
            "reason": "Besluttet på mødet.",
            "meeting_date": "2026-11-20",
            "minutes_reference": "Referat IC-møde 20-11-2026, pkt. 4",
        },
    )

    recommended.refresh_from_db()
    assert recommended.status == CandidateArea.Status.POSTPONED
    assert recommended.meeting_date == dt.date(2026, 11, 20)
    assert recommended.minutes_reference == "Referat IC-møde 20-11-2026, pkt. 4"


def test_one_meeting_submit_shows_every_missing_part_together(recommended, secretariat):
    url = reverse("tenders:candidate_decide", kwargs={"pk": recommended.pk})

    page = text_of(client_for(secretariat).post(url, {"decision": "postpone"}))

    assert "Angiv datoen for indkøbschefernes møde." in page
    assert "Angiv det år, der udskydes til." in page
    assert "Angiv årsagen til udskydelsen." in page
    assert "Angiv henvisningen til mødets referat." in page
    recommended.refresh_from_db()
    assert recommended.status == CandidateArea.Status.RECOMMENDED


def test_a_chief_with_no_vote_yet_is_reminded_before_the_meeting(recommended, chiefs, mailoutbox):
    recommended.meeting_date = timezone.localdate() + dt.timedelta(days=3)
    recommended.save()
    for user in chiefs.values():
        user.email = f"{user.username}@region.dk"
        user.save()
    services.candidate_vote(candidate=recommended, actor=chiefs["RH"], decision="approve")

    sent = services.vote_reminders_send()

    assert sent == 4
    assert sorted(m.to[0] for m in mailoutbox) == [
        "chief_rm@region.dk",
        "chief_rn@region.dk",
        "chief_rsd@region.dk",
        "chief_rsj@region.dk",
    ]
    assert services.chief_votes_waiting(chiefs["RM"]) == [recommended]
    assert services.chief_votes_waiting(chiefs["RH"]) == []


def test_a_vote_reminder_that_fails_does_not_stop_the_others(recommended, chiefs, mailoutbox):
    recommended.meeting_date = timezone.localdate() + dt.timedelta(days=3)
    recommended.save()
    for user in chiefs.values():
        user.email = f"{user.username}@region.dk"
        user.save()
    real_send_mail = reminders.send_mail

    def send_mail(subject, body, from_email, recipients):
        if recipients == ["chief_rm@region.dk"]:
            raise smtplib.SMTPException("down")
        return real_send_mail(subject, body, from_email, recipients)

    with mock.patch("rfi.reminders.send_mail", side_effect=send_mail):
        sent = services.vote_reminders_send()

    assert sent == 4
    assert sorted(m.to[0] for m in mailoutbox) == [
        "chief_rh@region.dk",
        "chief_rn@region.dk",
        "chief_rsd@region.dk",
        "chief_rsj@region.dk",
    ]


@pytest.mark.parametrize("persona", ["officer_rm", "ufo_member"])
def test_only_chiefs_and_the_secretariat_decide(recommended, regions, persona, request):
    user = request.getfixturevalue(persona)
    url = reverse("tenders:candidate_decide", kwargs={"pk": recommended.pk})
    client = client_for(user)

    assert client.get(url).status_code == 403
    response = client.post(url, {"decision": "approve", "lead_region": regions["RM"].pk})

    assert response.status_code == 403
    recommended.refresh_from_db()
    assert recommended.status == CandidateArea.Status.RECOMMENDED
    assert not TenderCase.objects.exists()


# Savings -----------------------------------------------------------------------------------


@pytest.fixture
def awarded(plan_reference, cpv, regions, officer_rm) -> TenderCase:
    return services.tender_create(
        actor=officer_rm,
        title="Katetre",
        category=cpv["catheters"],
        area=TenderCase.Area.MEDICO_ACQUISITIONS,
        kind=TenderCase.Kind.FRAMEWORK,
        lead_region=regions["RM"],
        status=TenderCase.Status.IN_CONTRACT,
        publication_date=dt.date(2025, 2, 1),
        award_date=dt.date(2025, 6, 1),
        contract_start=dt.date(2025, 9, 1),
        contract_end=dt.date(2027, 8, 31),
    )


def savings_post(region, **fields) -> dict:
    method = SavingsMethod.objects.get(code="same-volume")
    data = {
        "region": region.pk,
        "baseline_annual_cost": "1.000.000",
        "new_annual_cost": "850.000",
        "method": method.pk,
        "contract_start": "",
        "contract_end": "",
    }
    return {**data, **fields}


def test_an_officer_records_the_saving_of_their_region(awarded, officer_rm, regions):
    client = client_for(officer_rm)
    url = reverse("tenders:savings", kwargs={"reference": awarded.reference})

    response = client.post(url, savings_post(regions["RM"]), follow=True)

    record = SavingsRecord.objects.get(tender=awarded, region=regions["RM"])
    assert record.annual_saving == Decimal("150000")
    assert record.contract_start == awarded.contract_start
    row = row_with(response, "Region Midtjylland")
    assert "1.000.000 kr. 850.000 kr. 150.000 kr. 15,0 %" in row


def test_an_officer_cannot_record_for_another_region(awarded, officer_rm, regions):
    url = reverse("tenders:savings", kwargs={"reference": awarded.reference})

    response = client_for(officer_rm).post(url, savings_post(regions["RSD"]))

    assert response.status_code == 403
    assert not SavingsRecord.objects.exists()


def test_savings_before_award_are_refused_with_a_message(plan_reference, cpv, regions, officer_rm):
    tender = services.tender_create(
        actor=officer_rm,
        title="Sonder",
        category=cpv["catheters"],
        area=TenderCase.Area.MEDICO_ACQUISITIONS,
        kind=TenderCase.Kind.FRAMEWORK,
        lead_region=regions["RM"],
    )
    url = reverse("tenders:savings", kwargs={"reference": tender.reference})

    response = client_for(officer_rm).post(url, savings_post(regions["RM"]))

    assert response.status_code == 200
    assert "Besparelser registreres efter tildeling." in text_of(response)
    assert not SavingsRecord.objects.exists()


def test_the_savings_overview_rolls_up_per_region(awarded, officer_rm, officer_rsd, regions):
    method = SavingsMethod.objects.get(code="same-volume")
    for actor, code, baseline, new in (
        (officer_rm, "RM", 1_000_000, 850_000),
        (officer_rsd, "RSD", 500_000, 450_000),
    ):
        services.savings_record(
            tender=awarded,
            region=regions[code],
            actor=actor,
            baseline_annual_cost=Decimal(baseline),
            new_annual_cost=Decimal(new),
            method=method,
        )

    response = client_for(officer_rsd).get(reverse("tenders:savings_overview"), {"by": "region"})

    assert "150.000 kr. 15,0 %" in row_with(response, "Region Midtjylland")
    assert "50.000 kr. 10,0 %" in row_with(response, "Region Syddanmark")
    total = row_with(response, "I alt")
    # expected (none), baseline, new, saving, reduction
    assert total == "I alt 0 kr. 1.500.000 kr. 1.300.000 kr. 200.000 kr. 13,3 %"


def test_one_savings_submit_shows_the_amount_method_and_date_errors_together(
    awarded, officer_rm, regions
):
    url = reverse("tenders:savings", kwargs={"reference": awarded.reference})
    data = savings_post(
        regions["RM"],
        baseline_annual_cost="0",
        new_annual_cost="850.000",
        method="",
        contract_start="2027-06-01",
        contract_end="2027-01-01",
    )

    text = text_of(client_for(officer_rm).post(url, data))

    assert "Den årlige udgift før udbuddet skal være over nul." in text
    assert "Dette felt er påkrævet." in text  # the method, the form's own check
    assert "Kontrakten kan ikke udløbe, før den starter." in text
    assert not SavingsRecord.objects.exists()
