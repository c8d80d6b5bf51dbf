"""The plan's pages through their URLs: overview, case form, follow-or-explain, reports."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rfi.models import Category, PartnerBody, Region
from tenders import services
from tenders.models import OptOutReason, Participation, PlanSettings, TenderCase
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Regionen har netop indgået en fireårig aftale på området og kan ikke opsige den."


def _category(code: str, digit: str, label: str, level: int, parent=None) -> Category:
    category, _ = Category.objects.get_or_create(
        code=code,
        defaults={
            "check_digit": digit,
            "label_en": label,
            "label_da": label,
            "level": level,
            "parent": parent,
        },
    )
    return category


@pytest.fixture
def categories(db) -> dict[str, Category]:
    medical = _category("33000000", "0", "Medicinsk udstyr", 1)
    equipment = _category("33100000", "1", "Medicinske apparater", 2, medical)
    consumables = _category("33141000", "0", "Medicinske forbrugsartikler", 4, equipment)
    services_ = _category("90000000", "7", "Kloak- og renovationsvæsen", 1)
    cleaning = _category("90910000", "9", "Rengøring", 3, services_)
    return {
        "medical": medical,
        "equipment": equipment,
        "consumables": consumables,
        "cleaning": cleaning,
    }


@pytest.fixture
def reasons(db) -> dict[str, OptOutReason]:
    existing, _ = OptOutReason.objects.get_or_create(
        code="test-existing-contract",
        defaults={
            "label_da": "Eksisterende kontrakt til og med",
            "label_en": "Existing contract until",
            "asks_contract_end": True,
            "order": 1,
        },
    )
    clinical, _ = OptOutReason.objects.get_or_create(
        code="test-clinical",
        defaults={"label_da": "Andre kliniske behov", "label_en": "Different clinical needs"},
    )
    return {"existing": existing, "clinical": clinical}


def make_tender(actor, category, lead: Region, **fields) -> TenderCase:
    values = {
        "title": "Katetre",
        "category": category,
        "area": TenderCase.Area.MEDICO_ACQUISITIONS,
        "kind": TenderCase.Kind.FRAMEWORK,
        "has_options": True,
        "lead_region": lead,
        **fields,
    }
    return services.tender_create(actor=actor, **values)


def decide(tender, region, actor, status, **fields) -> Participation:
    participation = tender.participations.get(region=region)
    return services.participation_decide(
        participation=participation, actor=actor, status=status, **fields
    )


@pytest.fixture
def tender(officer_rm, regions, categories) -> TenderCase:
    return make_tender(officer_rm, categories["consumables"], regions["RM"])


def text_of(response) -> str:
    """The page's visible text, tags removed and whitespace squeezed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def references_on(response) -> set[str]:
    return set(re.findall(r'href="/fup/sag/(FUP-[^/"]+)/"', response.content.decode()))


def form_data(category: Category, lead: Region, /, **fields) -> dict:
    data = {
        "title": "Sårplejeprodukter",
        "description": "Fælles rammeaftale om sårpleje.",
        "category": category.code,
        "area": TenderCase.Area.MEDICO_ACQUISITIONS,
        "kind": TenderCase.Kind.FRAMEWORK,
        "has_options": "on",
        "lead_region": str(lead.pk),
        "status": TenderCase.Status.PLANNED,
        "expected_tender_start": "2027-02-01",
        "decision_deadline": "2026-11-30",
        "estimated_annual_value": "12500000.50",
        "internal_notes": "Afventer markedsdialog.",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


# --- the overview --------------------------------------------------------------------------


@pytest.fixture
def three_cases(officer_rm, officer_rsd, regions, categories):
    catheters = make_tender(
        officer_rm,
        categories["consumables"],
        regions["RM"],
        title="Katetre",
        estimated_annual_value=Decimal("1234567"),
    )
    decide(catheters, regions["RSD"], officer_rsd, Participation.Status.FULL)
    decide(catheters, regions["RM"], officer_rm, Participation.Status.FULL)
    cleaning = make_tender(
        officer_rsd,
        categories["cleaning"],
        regions["RSD"],
        title="Rengøringsservice",
        area=TenderCase.Area.GOODS_SERVICES,
        status=TenderCase.Status.IN_TENDER,
        publication_date=dt.date(2026, 3, 1),
    )
    beds = make_tender(
        officer_rm,
        categories["equipment"],
        regions["RM"],
        title="Hospitalssenge",
        status=TenderCase.Status.IN_CONTRACT,
        publication_date=dt.date(2024, 1, 10),
        award_date=dt.date(2024, 5, 1),
        contract_start=dt.date(2024, 7, 1),
        contract_end=dt.date(2028, 6, 30),
    )
    return {"catheters": catheters, "cleaning": cleaning, "beds": beds}


def test_overview_shows_each_case_with_the_regions_participation(officer_rm, three_cases):
    response = client_for(officer_rm).get(reverse("tenders:index"))

    assert response.status_code == 200
    text = text_of(response)
    catheters = three_cases["catheters"]
    assert references_on(response) == {t.reference for t in three_cases.values()}
    assert "33141000-0 Medicinske forbrugsartikler" in text
    assert "1.234.567 kr." in text
    # Compact badges for the eye, full words for screen readers: not colour alone.
    assert "RM ✓" in text and "RSD ✓" in text and "RH ?" in text
    assert "Region Syddanmark: Deltager fuldt ud" in text
    assert "Region Hovedstaden: Afventer" in text
    assert "? = afventer" in text
    assert f'href="/fup/sag/{catheters.reference}/"' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "in_tender"}, {"cleaning"}),
        ({"status": ["planned", "in_contract"]}, {"catheters", "beds"}),
        ({"participating_region": "RSD"}, {"catheters"}),
        ({"lead_region": "RSD"}, {"cleaning"}),
        ({"q": "rengøring"}, {"cleaning"}),
        ({"category": "3314"}, {"catheters"}),
        ({"category": "33"}, {"catheters", "beds"}),
        ({"area": "goods_services"}, {"cleaning"}),
        ({"year": "2027"}, {"beds"}),
    ],
)
def test_filters_narrow_the_overview(officer_rm, three_cases, query, expected):
    response = client_for(officer_rm).get(reverse("tenders:index"), query)

    assert response.status_code == 200
    assert references_on(response) == {three_cases[name].reference for name in expected}


def test_the_filter_state_is_kept_in_the_form_and_the_export_link(officer_rm, three_cases):
    response = client_for(officer_rm).get(
        reverse("tenders:index"), {"status": "planned", "participating_region": "RSD"}
    )

    html = response.content.decode()
    assert 'value="planned" checked' in html
    assert '<option value="RSD" selected>' in html
    assert f'href="{reverse("tenders:export")}?status=planned&amp;participating_region=RSD"' in html
    assert "Eksportér til Excel" in html


def test_sorting_by_title_through_the_column_header(officer_rm, three_cases):
    client = client_for(officer_rm)

    ascending = client.get(reverse("tenders:index"), {"ordering": "title"})
    descending = client.get(reverse("tenders:index"), {"ordering": "-title"})

    titles = ["Hospitalssenge", "Katetre", "Rengøringsservice"]
    html = ascending.content.decode()
    assert sorted(titles, key=html.index) == titles
    html = descending.content.decode()
    assert sorted(titles, key=html.index) == list(reversed(titles))
    # The header now offers the opposite direction and says how the column is sorted.
    assert 'aria-sort="ascending"><a href="?ordering=-title"' in ascending.content.decode()


def test_pagination_keeps_the_query_string(officer_rm, regions, categories):
    # given: 51 planned cases and one ended case that the filter leaves out
    TenderCase.objects.bulk_create(
        TenderCase(
            reference=f"FUP-2026-{n:03d}",
            title=f"Sag {n}",
            category=categories["medical"],
            area=TenderCase.Area.GOODS_SERVICES,
            kind=TenderCase.Kind.FRAMEWORK,
            lead_region=regions["RM"],
            status=TenderCase.Status.ENDED if n == 52 else TenderCase.Status.PLANNED,
        )
        for n in range(1, 53)
    )
    client = client_for(officer_rm)

    # when
    first = client.get(reverse("tenders:index"), {"status": "planned", "q": "Sag"})

    # then
    assert len(references_on(first)) == 50
    assert "51 udbudssager" in text_of(first)
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first.content.decode()).group(1)
    assert next_link == "?status=planned&amp;q=Sag&amp;page=2"
    second = client.get(reverse("tenders:index") + next_link.replace("&amp;", "&"))
    assert references_on(second) == {"FUP-2026-001"}
    assert '<a href="?status=planned&amp;q=Sag&amp;page=1" rel="prev">' in (second.content.decode())


def test_the_overview_costs_the_same_queries_for_few_and_many_cases(
    officer_rm, regions, categories
):
    def queries_for(count: int) -> int:
        for _ in range(count):
            make_tender(officer_rm, categories["consumables"], regions["RM"])
        client = client_for(officer_rm)
        with CaptureQueriesContext(connection) as context:
            response = client.get(reverse("tenders:index"))
        assert len(references_on(response)) == TenderCase.objects.count()
        return len(context.captured_queries)

    few = queries_for(2)
    many = queries_for(20)

    assert many == few


def test_new_case_button_only_for_those_who_may_create(officer_rm, ufo_member, regions):
    label = "Ny udbudssag"

    assert label in text_of(client_for(officer_rm).get(reverse("tenders:index")))
    assert label not in text_of(client_for(ufo_member).get(reverse("tenders:index")))


def test_sub_navigation_links_the_plan_pages_and_my_region(officer_rm):
    html = client_for(officer_rm).get(reverse("tenders:index")).content.decode()

    for name in ("outstanding", "options", "status_report", "candidates", "savings_overview"):
        assert f'href="{reverse(f"tenders:{name}")}"' in html
    assert f'href="{reverse("tenders:region", args=["RM"])}"' in html
    assert "Min region (RM)" in html


# --- creating and editing a case ----------------------------------------------------------------


def test_an_officer_of_rm_creates_a_case_that_rm_leads(officer_rm, regions, categories):
    client = client_for(officer_rm)

    form = client.get(reverse("tenders:create"))
    response = client.post(
        reverse("tenders:create"), form_data(categories["consumables"], regions["RM"])
    )

    # the lead is preset to the officer's own region, the only one offered
    assert f'<option value="{regions["RM"].pk}" selected>' in form.content.decode()
    assert f'<option value="{regions["RSD"].pk}"' not in form.content.decode()
    tender = TenderCase.objects.get(title="Sårplejeprodukter")
    assert response.status_code == 302
    assert response["Location"] == reverse("tenders:detail", args=[tender.reference])
    assert tender.lead_region == regions["RM"]
    assert tender.category == categories["consumables"]
    assert tender.estimated_annual_value == Decimal("12500000.50")
    assert tender.expected_tender_start == dt.date(2027, 2, 1)
    assert tender.has_options is True
    assert sorted(tender.participations.values_list("status", flat=True)) == ["pending"] * 5

    detail = client.get(response["Location"])
    text = text_of(detail)
    assert f"Udbudssagen {tender.reference} er oprettet" in text
    history = text.split("Historik", 1)[1]
    assert "officer_rm Udbudssag: oprettet" in history


@pytest.mark.parametrize("typed", ["33141000-0", " 33141000 "])
def test_the_category_is_typed_as_a_cpv_code(officer_rm, regions, categories, typed):
    client_for(officer_rm).post(
        reverse("tenders:create"),
        form_data(categories["consumables"], regions["RM"], category=typed),
    )

    assert TenderCase.objects.get().category == categories["consumables"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("33141000-7", "Kontrolcifferet for 33141000 er 0, ikke 7."),
        ("44444444", "CPV-koden 44444444 findes ikke."),
        ("sengetøj", "Skriv en CPV-kode på otte cifre"),
    ],
)
def test_a_wrong_cpv_code_is_refused(officer_rm, regions, categories, typed, message):
    response = client_for(officer_rm).post(
        reverse("tenders:create"),
        form_data(categories["consumables"], regions["RM"], category=typed),
    )

    assert response.status_code == 200
    assert message in text_of(response)
    assert not TenderCase.objects.exists()


def test_the_category_label_is_shown_as_the_code_is_typed(officer_rm, categories):
    response = client_for(officer_rm).get(
        reverse("tenders:create"), {"category": "33141000"}, headers={"HX-Request": "true"}
    )

    # with the area suggested for the code (issue 13 §5; no mapping kept: goods and services)
    assert text_of(response) == (
        "Valgt: 33141000-0 Medicinske forbrugsartikler Foreslået område: Varer og tjenesteydelser"
    )


def test_an_officer_of_rsd_cannot_create_a_case_led_by_rm(officer_rsd, regions, categories):
    client = client_for(officer_rsd)

    form = client.get(reverse("tenders:create"))
    response = client.post(
        reverse("tenders:create"), form_data(categories["consumables"], regions["RM"])
    )

    assert f'<option value="{regions["RM"].pk}"' not in form.content.decode()
    assert response.status_code == 200
    assert "er ikke blandt de tilgængelige valgmuligheder" in text_of(response)
    assert not TenderCase.objects.exists()


def test_the_secretariat_may_hand_the_lead_to_a_partner_body(secretariat, regions, categories):
    amgros = PartnerBody.objects.get(code="AMGROS")
    data = form_data(categories["consumables"], regions["RM"], lead_region="")
    data["lead_partner"] = str(amgros.pk)

    response = client_for(secretariat).post(reverse("tenders:create"), data)

    assert response.status_code == 302
    assert TenderCase.objects.get().lead_partner == amgros


def test_a_member_without_an_officer_role_may_not_create(ufo_member, regions, categories):
    client = client_for(ufo_member)

    assert client.get(reverse("tenders:create")).status_code == 403
    response = client.post(
        reverse("tenders:create"), form_data(categories["consumables"], regions["RM"])
    )
    assert response.status_code == 403
    assert not TenderCase.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"publication_date": "2026-05-01", "award_date": "2026-04-01"},
            "Tildeling (01-04-2026) kan ikke ligge før offentliggørelse (01-05-2026).",
        ),
        (
            {"contract_start": "2027-01-01", "contract_end": "2026-12-31"},
            "Kontraktudløb (31-12-2026) kan ikke ligge før kontraktstart (01-01-2027).",
        ),
        (
            {"status": "in_contract", "contract_start": "2027-01-01"},
            "Status “I kontraktperiode” kræver milepælen “tildeling”.",
        ),
    ],
)
def test_contradicting_milestones_are_refused_with_a_message(
    officer_rm, regions, categories, fields, message
):
    response = client_for(officer_rm).post(
        reverse("tenders:create"), form_data(categories["consumables"], regions["RM"], **fields)
    )

    assert response.status_code == 200
    text = text_of(response)
    assert "Formularen indeholder fejl; intet er gemt." in text
    assert message in text
    assert not TenderCase.objects.exists()


def test_the_lead_officer_edits_the_case_and_the_history_shows_old_and_new(
    officer_rm, tender, regions, categories
):
    client = client_for(officer_rm)
    url = reverse("tenders:edit", args=[tender.reference])

    form = client.get(url)
    response = client.post(
        url,
        form_data(
            categories["consumables"],
            regions["RM"],
            title="Katetre og dræn",
            decision_deadline="2026-12-15",
        ),
    )

    assert 'value="33141000-0"' in form.content.decode()
    assert response.status_code == 302
    tender.refresh_from_db()
    assert tender.title == "Katetre og dræn"
    detail = text_of(client.get(reverse("tenders:detail", args=[tender.reference])))
    history = detail.split("Historik", 1)[1]
    assert "Titel: Katetre → Katetre og dræn" in history
    assert "Beslutningsfrist: – → 15-12-2026" in history
    assert history.index("Udbudssag: ændret") < history.index("Udbudssag: oprettet")


def test_a_refused_edit_changes_nothing(officer_rm, tender, regions, categories):
    response = client_for(officer_rm).post(
        reverse("tenders:edit", args=[tender.reference]),
        form_data(
            categories["consumables"],
            regions["RM"],
            title="Ændret titel",
            award_date="2026-01-01",
        ),
    )

    assert response.status_code == 200
    assert "En udbudssag med en tildelingsdato er ikke længere kommende." in text_of(response)
    tender.refresh_from_db()
    assert tender.title == "Katetre"
    assert tender.history.count() == 1


def test_an_officer_of_another_region_may_not_edit_the_case(
    officer_rsd, tender, regions, categories
):
    client = client_for(officer_rsd)
    url = reverse("tenders:edit", args=[tender.reference])

    assert client.get(url).status_code == 403
    response = client.post(
        url, form_data(categories["consumables"], regions["RSD"], title="Overtaget")
    )

    assert response.status_code == 403
    tender.refresh_from_db()
    assert (tender.title, tender.lead_region) == ("Katetre", regions["RM"])


# --- the case page --------------------------------------------------------------------------------


def test_the_case_page_shows_facts_participation_and_links(officer_rm, tender, regions):
    tender.internal_notes = "Kun til internt brug: forhandlingsstrategi."
    tender.save()

    response = client_for(officer_rm).get(reverse("tenders:detail", args=[tender.reference]))

    text = text_of(response)
    html = response.content.decode()
    assert "33141000-0 Medicinske forbrugsartikler" in text
    assert "Medico og anskaffelser" in text
    assert "Region Midtjylland (tovholder)" in text
    assert "Kun til internt brug: forhandlingsstrategi." in text
    assert f'href="{reverse("tenders:edit", args=[tender.reference])}"' in html
    assert f'href="{reverse("tenders:savings", args=[tender.reference])}"' in html
    # Officers of RM set RM's row only.
    assert reverse("tenders:participation", args=[tender.reference, "RM"]) in html
    assert reverse("tenders:participation", args=[tender.reference, "RSD"]) not in html


def test_the_case_page_is_read_only_for_an_officer_of_another_region(officer_rsd, tender):
    html = (
        client_for(officer_rsd)
        .get(reverse("tenders:detail", args=[tender.reference]))
        .content.decode()
    )

    assert reverse("tenders:edit", args=[tender.reference]) not in html
    assert reverse("tenders:participation", args=[tender.reference, "RSD"]) in html
    assert reverse("tenders:participation", args=[tender.reference, "RM"]) not in html


def test_an_unknown_case_is_not_found(officer_rm):
    response = client_for(officer_rm).get(reverse("tenders:detail", args=["FUP-1999-999"]))

    assert response.status_code == 404


# --- follow or explain --------------------------------------------------------------------------


def participation_url(tender, code: str) -> str:
    return reverse("tenders:participation", args=[tender.reference, code])


def test_opting_out_without_a_justification_is_refused(officer_rsd, tender, reasons):
    response = client_for(officer_rsd).post(
        participation_url(tender, "RSD"),
        {"status": "opted_out", "opt_out_reason": reasons["clinical"].pk, "justification": ""},
    )

    assert response.status_code == 200
    assert "Følg eller forklar: et fravalg kræver en skriftlig begrundelse" in text_of(response)
    participation = tender.participations.get(region__code="RSD")
    assert participation.status == Participation.Status.PENDING
    assert participation.decided_by is None


def test_a_too_short_justification_names_the_minimum(officer_rsd, tender, reasons):
    settings = PlanSettings.current()
    settings.min_justification_length = 60
    settings.save()

    response = client_for(officer_rsd).post(
        participation_url(tender, "RSD"),
        {
            "status": "opted_out",
            "opt_out_reason": reasons["clinical"].pk,
            "justification": "For dyrt.",
        },
    )

    text = text_of(response)
    assert "på mindst 60 tegn (9 givet)" in text
    assert tender.participations.get(region__code="RSD").status == Participation.Status.PENDING


def test_the_form_tells_the_minimum_length_up_front(officer_rsd, tender):
    response = client_for(officer_rsd).get(participation_url(tender, "RSD"))

    assert "mindst 40 tegn" in text_of(response)


def test_a_valid_opt_out_records_reason_text_and_who_decided(officer_rsd, tender, reasons):
    client = client_for(officer_rsd)

    response = client.post(
        participation_url(tender, "RSD"),
        {
            "status": "opted_out",
            "opt_out_reason": reasons["clinical"].pk,
            "justification": JUSTIFICATION,
            "estimated_annual_value": "750000",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("tenders:detail", args=[tender.reference])
    participation = tender.participations.get(region__code="RSD")
    assert participation.status == Participation.Status.OPTED_OUT
    assert participation.opt_out_reason == reasons["clinical"]
    assert participation.justification == JUSTIFICATION
    assert participation.decided_by == officer_rsd
    assert participation.estimated_annual_value == Decimal("750000")
    detail = text_of(client.get(response["Location"]))
    assert "Deltagelsen for Region Syddanmark er gemt." in detail
    assert "Andre kliniske behov" in detail
    assert JUSTIFICATION in detail
    history = detail.split("Historik", 1)[1]
    assert "officer_rsd Deltagelse RSD: ændret" in history
    assert "Deltagelse: Afventer → Fravalgt" in history


def test_an_officer_of_rsd_cannot_set_the_participation_of_rm(officer_rsd, tender, reasons):
    client = client_for(officer_rsd)
    url = participation_url(tender, "RM")

    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            "status": "opted_out",
            "opt_out_reason": reasons["clinical"].pk,
            "justification": JUSTIFICATION,
        },
    )

    assert response.status_code == 403
    participation = tender.participations.get(region__code="RM")
    assert participation.status == Participation.Status.PENDING
    assert participation.history.count() == 1


def test_the_secretariat_may_set_any_regions_participation(secretariat, tender):
    response = client_for(secretariat).post(participation_url(tender, "RN"), {"status": "full"})

    assert response.status_code == 302
    assert tender.participations.get(region__code="RN").status == Participation.Status.FULL


def test_option_then_exercise_records_the_date(officer_rsd, tender):
    client = client_for(officer_rsd)
    client.post(
        participation_url(tender, "RSD"),
        {"status": "option", "option_expected_join": "2027-07-01"},
    )
    participation = tender.participations.get(region__code="RSD")
    assert participation.status == Participation.Status.OPTION
    assert participation.option_expected_join == dt.date(2027, 7, 1)
    exercise_url = reverse("tenders:option_exercise", args=[tender.reference, "RSD"])
    detail = client.get(reverse("tenders:detail", args=[tender.reference])).content.decode()
    assert exercise_url in detail and "Udnyt option" in detail

    response = client.post(exercise_url, {"RSD-exercised_on": "2027-08-15"})

    assert response.status_code == 302
    participation.refresh_from_db()
    assert participation.option_exercised_on == dt.date(2027, 8, 15)
    text = text_of(client.get(response["Location"]))
    assert "Region Syddanmark har udnyttet sin option den 15-08-2027." in text
    assert "Udnyttet den 15-08-2027" in text


def test_exercising_an_option_takes_only_post(officer_rsd, tender):
    url = reverse("tenders:option_exercise", args=[tender.reference, "RSD"])

    assert client_for(officer_rsd).get(url).status_code == 405


def test_another_region_cannot_exercise_the_option(officer_rm, officer_rsd, tender, regions):
    decide(
        tender,
        regions["RSD"],
        officer_rsd,
        Participation.Status.OPTION,
        option_expected_join=dt.date(2027, 7, 1),
    )
    url = reverse("tenders:option_exercise", args=[tender.reference, "RSD"])

    response = client_for(officer_rm).post(url, {"RSD-exercised_on": "2027-08-15"})

    assert response.status_code == 403
    assert tender.participations.get(region__code="RSD").option_exercised_on is None


def test_an_existing_contract_reason_proposes_an_option(officer_rsd, tender, reasons):
    # given: the region has chosen "existing contract" and typed the contract's end (htmx)
    client = client_for(officer_rsd)
    url = participation_url(tender, "RSD")
    query = {
        "status": "opted_out",
        "opt_out_reason": reasons["existing"].pk,
        "existing_contract_end": "2027-06-30",
        "justification": JUSTIFICATION,
    }

    # when
    partial = client.get(url, query, headers={"HX-Request": "true"})
    switched = client.get(url, {**query, "apply_proposal": "1"}, headers={"HX-Request": "true"})

    # then: the form partial alone, with the proposal and a button to take it
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    text = text_of(partial)
    assert "Forslag:" in text
    assert "udløber 30-06-2027" in text
    assert "Deltag på en option fra 30-06-2027 i stedet" in text
    assert "Årsagen “Eksisterende kontrakt til og med” kræver slutdatoen" in text
    html = switched.content.decode()
    assert re.search(r'value="option"[^>]*checked', html)
    assert re.search(r'name="option_expected_join" value="2027-06-30"', html)


def test_the_proposal_works_without_javascript(officer_rsd, tender, reasons):
    response = client_for(officer_rsd).post(
        participation_url(tender, "RSD"),
        {
            "status": "opted_out",
            "opt_out_reason": reasons["existing"].pk,
            "existing_contract_end": "2027-06-30",
            "apply_proposal": "1",
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert re.search(r'value="option"[^>]*checked', html)
    assert tender.participations.get(region__code="RSD").status == Participation.Status.PENDING


def test_no_proposal_for_a_tender_without_options(officer_rsd, regions, categories, reasons):
    tender = make_tender(
        officer_rsd, categories["cleaning"], regions["RSD"], title="Engangskøb", has_options=False
    )
    response = client_for(officer_rsd).get(
        participation_url(tender, "RSD"),
        {"status": "opted_out", "opt_out_reason": reasons["existing"].pk},
        headers={"HX-Request": "true"},
    )

    text = text_of(response)
    assert "Forslag:" not in text
    assert 'value="option"' not in response.content.decode()


def test_the_contract_end_is_always_on_the_form_with_a_hint(officer_rsd, tender):
    response = client_for(officer_rsd).get(participation_url(tender, "RSD"))

    html = response.content.decode()
    assert 'name="existing_contract_end"' in html
    assert "Skal udfyldes, når årsagen er en eksisterende kontrakt." in text_of(response)


def test_an_existing_contract_reason_without_its_end_date_is_refused(officer_rsd, tender, reasons):
    response = client_for(officer_rsd).post(
        participation_url(tender, "RSD"),
        {
            "status": "opted_out",
            "opt_out_reason": reasons["existing"].pk,
            "justification": JUSTIFICATION,
        },
    )

    assert "Angiv slutdatoen for den eksisterende kontrakt." in text_of(response)
    assert tender.participations.get(region__code="RSD").status == Participation.Status.PENDING


# --- reports -----------------------------------------------------------------------------------


def test_outstanding_lists_pending_regions_response_rate_and_overdue(
    officer_rm, officer_rsd, tender, regions, categories
):
    # given: RM and RSD have decided on an overdue case; a second case is not due yet
    today = timezone.localdate()
    tender.decision_deadline = today - dt.timedelta(days=2)
    tender.save()
    decide(tender, regions["RM"], officer_rm, Participation.Status.FULL)
    decide(tender, regions["RSD"], officer_rsd, Participation.Status.FULL)
    later = make_tender(
        officer_rm,
        categories["equipment"],
        regions["RM"],
        title="Senge",
        decision_deadline=today + dt.timedelta(days=30),
    )
    client = client_for(officer_rm)

    # when: "All regions" chosen (without a choice the page shows the user's own region)
    response = client.get(reverse("tenders:outstanding"), {"region": ""})
    only_rsd = client.get(reverse("tenders:outstanding"), {"region": "RSD"})

    # then
    rows = re.findall(r"<tr>(.*?)</tr>", response.content.decode(), flags=re.S)[1:]
    first, second = (re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for row in rows)
    assert tender.reference in first and "Overskredet" in first
    assert "2 af 5 (40 %)" in first
    assert "RH" in first and "RN" in first and "RSD" not in first
    assert later.reference in second and "Overskredet" not in second
    assert "0 af 5 (0 %)" in second
    assert references_on(only_rsd) == {later.reference}


def test_the_option_page_shows_holders_and_the_share_exercised(officer_rsd, tender, regions):
    participation = decide(
        tender,
        regions["RSD"],
        officer_rsd,
        Participation.Status.OPTION,
        option_expected_join=dt.date(2027, 7, 1),
    )
    services.participation_exercise_option(
        participation=participation, actor=officer_rsd, exercised_on=dt.date(2027, 8, 1)
    )

    response = client_for(officer_rsd).get(reverse("tenders:options"))

    text = text_of(response)
    assert tender.reference in text
    assert "Region Syddanmark 01-07-2027 Ja, den 01-08-2027" in text
    assert "RSD 2027 1 1 100 %" in text


def test_the_status_report_counts_and_sums_a_known_plan(
    officer_rm, officer_rsd, secretariat, regions, categories
):
    # given: two upcoming goods tenders, one medico tender in its contract period, one ended
    goods = dict(area=TenderCase.Area.GOODS_SERVICES, category=categories["cleaning"])
    a = make_tender(
        officer_rm,
        lead=regions["RM"],
        estimated_annual_value=Decimal("1000000"),
        expected_tender_start=timezone.localdate() + dt.timedelta(days=60),  # within the horizon
        **goods,
    )
    b = make_tender(
        officer_rsd,
        lead=regions["RSD"],
        estimated_annual_value=Decimal("2500000"),
        status=TenderCase.Status.IN_TENDER,
        publication_date=dt.date(2026, 1, 5),
        **goods,
    )
    c = make_tender(
        officer_rm,
        category=categories["equipment"],
        lead=regions["RM"],
        estimated_annual_value=Decimal("500000"),
        status=TenderCase.Status.IN_CONTRACT,
        publication_date=dt.date(2024, 1, 5),
        award_date=dt.date(2024, 3, 1),
        contract_start=dt.date(2024, 4, 1),
    )
    make_tender(
        officer_rm,
        category=categories["equipment"],
        lead=regions["RM"],
        estimated_annual_value=Decimal("9000000"),
        status=TenderCase.Status.ENDED,
        publication_date=dt.date(2018, 1, 5),
        award_date=dt.date(2018, 3, 1),
        contract_start=dt.date(2018, 4, 1),
        contract_end=dt.date(2022, 3, 31),
    )
    for tender, codes in ((a, ["RM", "RSD", "RH"]), (b, ["RSD", "RM"]), (c, ["RM", "RN"])):
        for code in codes:
            decide(tender, regions[code], secretariat, Participation.Status.FULL)

    # when
    response = client_for(officer_rm).get(reverse("tenders:status_report"))

    # then
    text = text_of(response)
    assert "Kommende og aktuelle 2 3.500.000 kr. 0 0 kr. 2 3.500.000 kr." in text
    assert "I kontraktperiode 0 0 kr. 1 500.000 kr. 1 500.000 kr." in text
    assert "I alt 2 3.500.000 kr. 1 500.000 kr. 3 4.000.000 kr." in text
    # 7 participations over 3 tenders; over 5 regions
    assert re.search(r'data-testid="regions-per-tender">2,3<', response.content.decode())
    assert re.search(r'data-testid="tenders-per-region">1,4<', response.content.decode())
    assert f'href="{reverse("tenders:status_report_export")}"' in response.content.decode()


def test_the_region_page_sorts_the_regions_cases(
    officer_rm, officer_rsd, regions, categories, reasons
):
    led = make_tender(officer_rsd, categories["cleaning"], regions["RSD"], title="Rengøring")
    joined = make_tender(officer_rm, categories["consumables"], regions["RM"], title="Katetre")
    on_option = make_tender(officer_rm, categories["equipment"], regions["RM"], title="Senge")
    refused = make_tender(officer_rm, categories["medical"], regions["RM"], title="Plastre")
    waiting = make_tender(
        officer_rm,
        categories["medical"],
        regions["RM"],
        title="Handsker",
        decision_deadline=dt.date(2026, 10, 1),
    )
    decide(led, regions["RSD"], officer_rsd, Participation.Status.FULL)
    decide(joined, regions["RSD"], officer_rsd, Participation.Status.FULL)
    decide(
        on_option,
        regions["RSD"],
        officer_rsd,
        Participation.Status.OPTION,
        option_expected_join=dt.date(2028, 1, 1),
    )
    decide(
        refused,
        regions["RSD"],
        officer_rsd,
        Participation.Status.OPTED_OUT,
        reason=reasons["clinical"],
        justification=JUSTIFICATION,
    )

    response = client_for(officer_rsd).get(reverse("tenders:region", args=["RSD"]))

    text = text_of(response)
    sections = {
        "pending": text.split("Afventer regionens beslutning", 1)[1].split("Udbud som regionen", 1)[
            0
        ],
        "leads": text.split("Udbud som regionen er tovholder på", 1)[1].split(
            "Deltager fuldt ud", 1
        )[0],
        "full": text.split("Deltager fuldt ud (", 1)[1].split("På en option (", 1)[0],
        "option": text.split("På en option (", 1)[1].split("Fravalgt (", 1)[0],
        "opted_out": text.split("Fravalgt (", 1)[1],
    }
    assert waiting.reference in sections["pending"] and "01-10-2026" in sections["pending"]
    assert led.reference in sections["leads"] and joined.reference not in sections["leads"]
    assert {joined.reference, led.reference} <= set(re.findall(r"FUP-\S+", sections["full"]))
    assert on_option.reference in sections["option"] and "01-01-2028" in sections["option"]
    assert (
        refused.reference in sections["opted_out"]
        and "Andre kliniske behov" in sections["opted_out"]
    )
    assert participation_url(waiting, "RSD") in response.content.decode()


def test_an_unknown_region_is_not_found(officer_rm):
    response = client_for(officer_rm).get(reverse("tenders:region", args=["XX"]))

    assert response.status_code == 404


def test_the_case_page_marks_the_deadline_overdue_only_while_a_region_is_pending(
    officer_rm, secretariat, tender, regions
):
    tender.decision_deadline = timezone.localdate() - dt.timedelta(days=1)
    tender.save()
    url = reverse("tenders:detail", args=[tender.reference])
    assert "Overskredet" in text_of(client_for(officer_rm).get(url))

    for region in regions.values():
        decide(tender, region, secretariat, Participation.Status.FULL)

    assert "Overskredet" not in text_of(client_for(officer_rm).get(url))


# --- every error in one round; dropdowns in the page's language -----------------------------


def test_the_participation_form_shows_amount_justification_and_date_errors_together(
    officer_rsd, tender, reasons
):
    response = client_for(officer_rsd).post(
        participation_url(tender, "RSD"),
        {
            "status": "opted_out",
            "opt_out_reason": reasons["existing"].pk,
            "justification": "For dyrt.",
            "existing_contract_end": "",
            "estimated_annual_value": "mange penge",
        },
    )

    assert response.status_code == 200
    text = text_of(response)
    assert "Skriv et beløb" in text  # the amount field's own error
    assert "på mindst 40 tegn (9 givet)" in text  # the follow-or-explain rule
    assert "Angiv slutdatoen for den eksisterende kontrakt." in text  # the missing date
    assert tender.participations.get(region__code="RSD").status == Participation.Status.PENDING


def test_the_reason_dropdown_asks_in_danish_not_with_dashes(officer_rsd, tender, reasons):
    text = text_of(client_for(officer_rsd).get(participation_url(tender, "RSD")))

    assert "Årsag til fravalg: Vælg… " in text
    assert "---------" not in text


def test_the_reason_dropdown_asks_in_english_on_the_english_page(officer_rsd, tender, reasons):
    client = client_for(officer_rsd)
    client.cookies["django_language"] = "en"

    text = text_of(client.get(participation_url(tender, "RSD")))

    assert "Choose… " in text
    assert "---------" not in text


def test_one_submit_of_a_case_shows_the_amount_and_the_milestone_errors(
    officer_rm, regions, categories
):
    data = form_data(
        categories["consumables"],
        regions["RM"],
        estimated_annual_value="tolv millioner",
        contract_start="2027-01-01",
        contract_end="2026-12-31",
    )

    text = text_of(client_for(officer_rm).post(reverse("tenders:create"), data))

    assert "Skriv et beløb, f.eks. 1.234.567,50 eller 1234567." in text
    assert "Kontraktudløb (31-12-2026) kan ikke ligge før kontraktstart (01-01-2027)." in text
    assert not TenderCase.objects.exists()
