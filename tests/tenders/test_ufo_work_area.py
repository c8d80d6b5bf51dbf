"""UFO's work area (issue 16 §6): the menu entry, the scoring rubric, and when to recommend."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from rfi.models import Membership
from tenders import services
from tenders.models import CandidateArea, ScoringCriterion
from tenders.reference import plan_reference_load
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory
from tests.tenders.test_views_ufo import cpv, make_candidate, score, text_of  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_reference(db):
    plan_reference_load()


@pytest.fixture
def ufo_rsd(regions):
    return MembershipFactory(
        user__username="ufo_rsd",
        user__first_name="Søren",
        user__last_name="Holm",
        region=regions["RSD"],
        role=Membership.Role.UFO,
    ).user


def _menu(client) -> list[str]:
    html = client.get(reverse("home")).content.decode()
    items = html.split('class="nav-items"', 1)[1].split("</ul>", 1)[0]
    return [
        re.sub(r"<[^>]+>", "", label).strip() for label in re.findall(r"<a [^>]*>(.*?)</a>", items)
    ]


# The menu --------------------------------------------------------------------------------------


def test_the_ufo_menu_entry_is_shown_to_ufo_members(ufo_member):
    assert "UFO" in _menu(client_for(ufo_member))


@pytest.mark.parametrize("persona", ["officer_rm", "chief", "outsider"])
def test_the_ufo_menu_entry_is_not_shown_to_others(persona, request):
    user = request.getfixturevalue(persona)

    assert "UFO" not in _menu(client_for(user))


def test_on_a_ufo_page_only_the_ufo_entry_is_current(ufo_member, plan_reference):
    html = client_for(ufo_member).get(reverse("tenders:candidates")).content.decode()
    items = html.split('class="nav-items"', 1)[1].split("</ul>", 1)[0]

    current = re.findall(r'<a href="([^"]+)" aria-current="page">', items)
    assert current == [reverse("tenders:candidates")]


# The rubric ------------------------------------------------------------------------------------


def test_the_scoring_form_says_what_each_score_means(plan_reference, cpv, ufo_member):  # noqa: F811
    candidate = make_candidate(cpv)

    page = client_for(ufo_member).get(reverse("tenders:candidate_score", args=[candidate.pk]))
    html = page.content.decode()

    volume = html.split('data-testid="rubric-volume-savings"', 1)[1].split("</div>", 1)[0]
    meanings = re.findall(r'<span class="rubric-text">([^<]+)</span>', volume)
    assert len(meanings) == 5
    assert meanings[0].startswith("Lille samlet volumen")
    assert meanings[4].startswith("Meget stor volumen i alle regioner")
    # Each text sits in the label of its own radio button.
    assert re.search(r'value="1"[^>]*>\s*<strong class="score-value">1</strong>\s*<span', volume)


def test_the_rubric_follows_the_language(plan_reference, cpv, ufo_member):  # noqa: F811
    candidate = make_candidate(cpv)
    client = client_for(ufo_member)
    client.post(reverse("set_language"), {"language": "en"})

    text = text_of(client.get(reverse("tenders:candidate_score", args=[candidate.pk])))

    assert "Never tendered before; no experience or contract data to build on." in text


def test_the_secretariat_edits_the_rubric_and_the_form_shows_it(
    plan_reference,
    cpv,  # noqa: F811
    secretariat,
    ufo_member,
):
    candidate = make_candidate(cpv)
    url = reverse("tenders:scoring_rubric")
    office = client_for(secretariat)
    data = {}
    for criterion in ScoringCriterion.objects.filter(active=True):
        for n in range(1, 6):
            data[f"{criterion.code}-da_{n}"] = criterion.rubric_text(n, "da")
            data[f"{criterion.code}-en_{n}"] = criterion.rubric_text(n, "en")
    data["complexity-da_5"] = "Hyldevare: alle regioner bruger det samme produkt."

    response = office.post(url, data)

    assert response.status_code == 302
    criterion = ScoringCriterion.objects.get(code="complexity")
    assert criterion.rubric["5"]["da"] == "Hyldevare: alle regioner bruger det samme produkt."
    assert criterion.history.first().history_user == secretariat
    form = client_for(ufo_member).get(reverse("tenders:candidate_score", args=[candidate.pk]))
    assert "Hyldevare: alle regioner bruger det samme produkt." in text_of(form)


def test_an_empty_danish_rubric_text_is_refused_and_nothing_is_saved(plan_reference, secretariat):
    office = client_for(secretariat)
    data = {}
    for criterion in ScoringCriterion.objects.filter(active=True):
        for n in range(1, 6):
            data[f"{criterion.code}-da_{n}"] = f"Ny tekst {n}"
            data[f"{criterion.code}-en_{n}"] = ""
    data["market-analysis-da_3"] = ""

    response = office.post(reverse("tenders:scoring_rubric"), data)

    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert (
        ScoringCriterion.objects.get(code="volume-savings")
        .rubric["1"]["da"]
        .startswith("Lille samlet volumen")
    )


def test_only_the_secretariat_may_edit_the_rubric(plan_reference, ufo_member):
    assert client_for(ufo_member).get(reverse("tenders:scoring_rubric")).status_code == 403
    criterion = ScoringCriterion.objects.get(code="complexity")
    with pytest.raises(services.PermissionDenied):
        services.scoring_rubric_update(
            actor=ufo_member, criterion=criterion, texts={n: ("x", "") for n in range(1, 6)}
        )


def test_seeding_again_keeps_the_secretariats_rubric(plan_reference):
    ScoringCriterion.objects.filter(code="complexity").update(
        rubric={"1": {"da": "Eget", "en": ""}}
    )
    ScoringCriterion.objects.filter(code="tender-history").update(rubric={})

    plan_reference_load()

    assert ScoringCriterion.objects.get(code="complexity").rubric == {"1": {"da": "Eget", "en": ""}}
    assert (
        ScoringCriterion.objects.get(code="tender-history")
        .rubric["5"]["da"]
        .startswith("Udbudt i fællesskab før")
    )


# Recommend -------------------------------------------------------------------------------------


def _recommend(user, candidate, **data):
    url = reverse("tenders:candidate_recommend", args=[candidate.pk])
    return client_for(user).post(url, data, follow=True)


def test_recommend_is_refused_until_every_active_ufo_member_has_scored(
    plan_reference,
    cpv,  # noqa: F811
    ufo_member,
    ufo_rsd,
):
    candidate = make_candidate(cpv)
    score(candidate, ufo_member, [4, 4, 4, 4])

    detail = text_of(client_for(ufo_member).get(reverse("tenders:candidate", args=[candidate.pk])))
    response = _recommend(ufo_member, candidate)

    assert (
        "Anbefal til indkøbscheferne"
        not in detail.split("Næste skridt", 1)[1].split("Scoringer")[0]
    )
    assert "mangler stadig: Søren Holm" in detail
    candidate.refresh_from_db()
    assert candidate.status == CandidateArea.Status.SCREENING
    assert "1 har ikke: Søren Holm" in text_of(response)

    # when the last UFO member scores, the button is there and recommending works
    score(candidate, ufo_rsd, [3, 3, 3, 3])
    detail = client_for(ufo_member).get(reverse("tenders:candidate", args=[candidate.pk]))
    assert 'data-testid="recommend"' in detail.content.decode()
    _recommend(ufo_member, candidate)
    candidate.refresh_from_db()
    assert candidate.status == CandidateArea.Status.RECOMMENDED
    assert candidate.recommendation_reason == ""


def test_an_inactive_ufo_member_is_not_waited_for(plan_reference, cpv, ufo_member, ufo_rsd):  # noqa: F811
    candidate = make_candidate(cpv)
    score(candidate, ufo_member, [4, 4, 4, 4])
    ufo_rsd.is_active = False
    ufo_rsd.save()

    services.candidate_recommend(candidate=candidate, actor=ufo_member)

    assert candidate.status == CandidateArea.Status.RECOMMENDED


def test_the_secretariat_recommends_early_only_with_a_reason_kept_in_the_history(
    plan_reference,
    cpv,  # noqa: F811
    ufo_member,
    ufo_rsd,
    secretariat,
):
    candidate = make_candidate(cpv)
    score(candidate, ufo_member, [4, 4, 4, 4])
    page = client_for(secretariat).get(reverse("tenders:candidate", args=[candidate.pk]))
    assert 'data-testid="recommend-with-reason"' in page.content.decode()

    # without a reason: refused
    response = _recommend(secretariat, candidate, reason="  ")
    candidate.refresh_from_db()
    assert candidate.status == CandidateArea.Status.SCREENING
    assert "Angiv begrundelsen" in text_of(response)

    # with one: recommended, and the reason is in the history
    response = _recommend(secretariat, candidate, reason="Chefmødet er 3. marts; RSD scorer efter.")
    candidate.refresh_from_db()
    assert candidate.status == CandidateArea.Status.RECOMMENDED
    assert candidate.recommendation_reason == "Chefmødet er 3. marts; RSD scorer efter."
    history = text_of(response).split("Historik", 1)[-1]
    assert "Chefmødet er 3. marts; RSD scorer efter." in history


def test_a_ufo_member_cannot_recommend_early_even_with_a_reason(
    plan_reference,
    cpv,  # noqa: F811
    ufo_member,
    ufo_rsd,
):
    candidate = make_candidate(cpv)
    score(candidate, ufo_member, [4, 4, 4, 4])

    with pytest.raises(ValidationError):
        services.candidate_recommend(candidate=candidate, actor=ufo_member, reason="Haster")

    candidate.refresh_from_db()
    assert candidate.status == CandidateArea.Status.SCREENING


def test_the_api_takes_the_secretariats_reason(plan_reference, cpv, ufo_member, ufo_rsd):  # noqa: F811
    staff = UserFactory(username="sek", is_staff=True)
    candidate = make_candidate(cpv)
    score(candidate, ufo_member, [4, 4, 4, 4])
    client = client_for(staff)
    url = reverse("candidate-recommend", kwargs={"pk": candidate.pk})

    refused = client.post(url, {}, content_type="application/json")
    accepted = client.post(url, {"reason": "Frist"}, content_type="application/json")

    assert refused.status_code == 400
    assert accepted.status_code == 200
    assert accepted.json()["recommendation_reason"] == "Frist"


def test_a_control_character_in_one_criterion_saves_no_criterion(plan_reference, secretariat):
    data = {}
    for criterion in ScoringCriterion.objects.filter(active=True):
        for n in range(1, 6):
            data[f"{criterion.code}-da_{n}"] = criterion.rubric_text(n, "da")
            data[f"{criterion.code}-en_{n}"] = criterion.rubric_text(n, "en")
    data["volume-savings-da_1"] = "Ny tekst om volumen"
    data["complexity-da_2"] = "Tekst med\x07klokke"

    response = client_for(secretariat).post(reverse("tenders:scoring_rubric"), data)

    assert response.status_code == 200
    assert "U+0007" in text_of(response)
    volume = ScoringCriterion.objects.get(code="volume-savings")
    assert volume.rubric["1"]["da"].startswith("Lille samlet volumen")
