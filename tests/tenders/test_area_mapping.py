"""Area comes from the purchase, not from CPV division 33 (issue 13 §5).

The officer chooses a case's area; the suggestion comes from the secretariat's
mapping of CPV prefixes to areas (longest prefix wins), seeded to agree with every
demo case; approving a UFO candidate uses the same suggestion.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tenders import demo, services
from tenders.models import AreaMapping, CandidateArea, TenderCase
from tenders.reference import plan_reference_load
from tests.conftest import client_for
from tests.tenders.test_excel import cpv

pytestmark = pytest.mark.django_db

GOODS = TenderCase.Area.GOODS_SERVICES
MEDICO = TenderCase.Area.MEDICO_ACQUISITIONS


@pytest.fixture
def seeded_mapping(db):
    plan_reference_load()


def test_every_demo_case_agrees_with_the_seeded_mapping(seeded_mapping):
    specs = demo.plan_specs(today=timezone.localdate())
    mappings = services.area_mappings()

    disagree = [s for s in specs if services.area_for_code(s.cpv, mappings) != s.area]
    division_33_rule = [s for s in specs if (MEDICO if s.cpv[:2] == "33" else GOODS) != s.area]

    assert len(specs) == 131
    assert disagree == []
    # what CPV division 33 alone got wrong: e.g. needles and syringes, laboratory equipment
    assert len(division_33_rule) == 28
    assert services.area_for_code("33141320") == GOODS  # Kanyler og sprøjter
    assert services.area_for_code("38430000") == MEDICO  # Laboratorieanalyseudstyr
    assert services.area_for_code("33192230") == MEDICO  # operating tables, not beds (331921)


def test_the_longest_prefix_wins_and_an_unmapped_code_is_goods_and_services(db):
    AreaMapping.objects.create(prefix="33", area=MEDICO)
    AreaMapping.objects.create(prefix="33141", area=GOODS)
    AreaMapping.objects.create(prefix="331413", area=MEDICO)

    assert services.area_for_code("33141320") == MEDICO  # 331413 beats 33141 and 33
    assert services.area_for_code("33141200") == GOODS  # 33141 beats 33
    assert services.area_for_code("33100000") == MEDICO  # only 33
    assert services.area_for_code("45000000") == GOODS  # nothing matches


def test_a_prefix_is_stored_without_trailing_zeros(db):
    mapping = AreaMapping.objects.create(prefix="38430000", area=MEDICO)

    assert mapping.prefix == "3843"
    assert services.area_for_code("38431000") == MEDICO


def test_seeding_again_keeps_the_secretariats_changes(seeded_mapping):
    AreaMapping.objects.filter(prefix="33141").update(area=MEDICO)
    AreaMapping.objects.filter(prefix="3843").delete()
    count = AreaMapping.objects.count()

    plan_reference_load()

    assert AreaMapping.objects.get(prefix="33141").area == MEDICO
    assert AreaMapping.objects.count() == count + 1  # the deleted row comes back


def test_the_officers_choice_is_kept_and_an_empty_choice_takes_the_suggestion(
    seeded_mapping, regions, secretariat
):
    needles = cpv("33141320")
    common = {
        "category": needles,
        "kind": TenderCase.Kind.FRAMEWORK,
        "lead_region": regions["RM"],
    }
    chosen = services.tender_create(actor=secretariat, title="Kanyler", area=MEDICO, **common)
    suggested = services.tender_create(actor=secretariat, title="Sprøjter", area="", **common)

    assert chosen.area == MEDICO  # the officer overrides the suggestion
    assert suggested.area == GOODS
    # the secretariat changes the mapping: stored areas stay, new suggestions follow
    AreaMapping.objects.filter(prefix="33141").update(area=MEDICO)
    services.tender_update(tender=chosen, actor=secretariat, title="Kanyler og sprøjter")
    chosen.refresh_from_db()
    suggested.refresh_from_db()
    assert (chosen.area, suggested.area) == (MEDICO, GOODS)
    services.tender_update(tender=suggested, actor=secretariat, area="")
    assert suggested.area == MEDICO


def test_the_case_form_fills_an_empty_area_from_the_cpv_code(seeded_mapping, regions, secretariat):
    cpv("33141320")
    client = client_for(secretariat)
    data = {
        "title": "Kanyler og sprøjter",
        "category": "33141320",
        "area": "",
        "kind": TenderCase.Kind.FRAMEWORK,
        "lead_region": str(regions["RM"].pk),
        "status": TenderCase.Status.PLANNED,
        "expected_tender_start": (timezone.localdate() + dt.timedelta(days=90)).isoformat(),
    }

    label = client.get(
        reverse("tenders:create"), {"category": "33141320"}, headers={"HX-Request": "true"}
    )
    response = client.post(reverse("tenders:create"), data)
    medico = client.post(
        reverse("tenders:create"), {**data, "title": "Kanyler, medico", "area": MEDICO}
    )

    assert "Foreslået område: Varer og tjenesteydelser" in label.content.decode()
    assert response.status_code == 302
    assert medico.status_code == 302
    assert TenderCase.objects.get(title="Kanyler og sprøjter").area == GOODS
    medico_case = TenderCase.objects.get(title="Kanyler, medico")
    assert medico_case.area == MEDICO
    # editing, the officer sees the suggestion beside the area they chose
    edit = client.get(reverse("tenders:edit", kwargs={"reference": medico_case.reference}))
    assert "Foreslået område: Varer og tjenesteydelser" in edit.content.decode()


def test_approving_a_candidate_uses_the_same_suggestion(
    seeded_mapping, regions, ufo_member, secretariat
):
    candidate = services.candidate_create(
        actor=ufo_member,
        title="Insulinpenne og pennekanyler",
        category=cpv("33141320"),
        plan_year=2027,
    )
    CandidateArea.objects.filter(pk=candidate.pk).update(status=CandidateArea.Status.RECOMMENDED)
    candidate.refresh_from_db()

    services.candidate_decide(  # the chiefs' meeting decision, recorded by the secretariat
        candidate=candidate,
        actor=secretariat,
        decision="approve",
        lead_region=regions["RSD"],
        meeting_date=dt.date(2026, 11, 20),
        minutes_reference="IC 20-11-2026 pkt. 2",
    )

    candidate.refresh_from_db()
    assert candidate.tender.area == GOODS  # CPV division 33, but disposable consumables


def test_the_secretariat_keeps_the_mapping_in_the_admin(seeded_mapping, secretariat, officer_rm):
    client = client_for(secretariat)

    listing = client.get(reverse("admin:tenders_areamapping_changelist"))
    added = client.post(
        reverse("admin:tenders_areamapping_add"),
        {"prefix": "33696500", "area": MEDICO, "note": "Laboratoriereagenser er medico hos os"},
    )
    officer = client_for(officer_rm).post(
        reverse("admin:tenders_areamapping_add"), {"prefix": "45", "area": MEDICO}
    )

    assert listing.status_code == 200
    assert "33141" in listing.content.decode()
    assert added.status_code == 302
    assert services.area_for_code("33696500") == MEDICO  # 336965 beats the seeded 33696
    assert officer.status_code == 302 and "login" in officer["Location"]
    assert not AreaMapping.objects.filter(prefix="45").exists()
