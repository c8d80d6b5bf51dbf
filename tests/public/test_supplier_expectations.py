"""What suppliers expect of every public page (issue 16 §7): alerts, open data, contact, phase."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from rfi.models import Region
from rfi.services import collaboration_load
from tenders.models import TenderCase
from tests.public.conftest import english_client

pytestmark = pytest.mark.django_db

LISTINGS = [
    reverse("public:index"),
    reverse("public:timeline"),
    reverse("public:region", args=["RM"]),
]
DETAIL = reverse("public:detail", args=["FUP-2026-101"])


def _section(html: str, testid: str) -> str:
    return html.split(f'data-testid="{testid}"', 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize("url", [*LISTINGS, DETAIL])
def test_every_public_page_offers_the_alert_sign_up_in_danish(plan, url):
    html = Client().get(url).content.decode()

    link = re.search(r'<a href="([^"]+)"[^>]*data-testid="subscribe-link">([^<]+)</a>', html)
    assert link, "no subscribe link"
    assert link.group(2) == "Abonnér på nye udbud"
    assert link.group(1).startswith(reverse("public:alerts_subscribe"))


def test_the_subscribe_link_sits_in_the_filter_box_and_carries_the_filter(plan):
    html = Client().get(reverse("public:index"), {"category": "33140000"}).content.decode()

    filter_box = html.split('class="public-filter"', 1)[1].split("</form>", 1)[0]
    assert 'data-testid="subscribe-link"' in filter_box
    assert f"{reverse('public:alerts_subscribe')}?category=33140000" in filter_box


def test_the_subscribe_link_of_a_region_page_names_the_region(plan):
    html = Client().get(reverse("public:region", args=["RSD"])).content.decode()

    assert f"{reverse('public:alerts_subscribe')}?region=RSD" in html


@pytest.mark.parametrize("url", [*LISTINGS, DETAIL])
def test_every_public_page_has_the_open_data_box_with_five_formats(plan, url):
    html = Client().get(url).content.decode()

    box = _section(html, "open-data")
    assert "Åbne data" in box
    for name in ("feed", "calendar", "csv", "xlsx", "ocds"):
        assert f'href="{reverse(f"public:{name}")}' in box, name
    assert "format=international" in box


def test_the_open_data_links_carry_the_selection(plan):
    html = Client().get(reverse("public:index"), {"tab": "current"}).content.decode()

    box = _section(html, "open-data")
    assert f'{reverse("public:ocds")}?tab=current"' in box
    assert f'{reverse("public:csv")}?tab=current&amp;format=international"' in box


def test_the_detail_page_names_the_lead_regions_procurement_contact(plan):
    Region.objects.filter(code="RM").update(
        procurement_contact="Indkøb og Medicoteknik",
        procurement_email="udbud@rm.dk",
        procurement_phone="78 41 00 00",
        procurement_url="https://www.rm.dk/indkob",
    )

    html = Client().get(DETAIL).content.decode()

    contact = html.split('id="contact-heading"', 1)[1].split("</section>", 1)[0]
    assert "Indkøb og Medicoteknik" in contact
    assert 'href="mailto:udbud@rm.dk"' in contact
    assert 'href="tel:78410000"' in contact and "78 41 00 00" in contact
    assert 'href="https://www.rm.dk/indkob"' in contact


def test_a_contact_change_appears_at_once_on_the_cached_page(plan):
    assert "ny-adresse@rm.dk" not in Client().get(DETAIL).content.decode()  # now cached

    region = Region.objects.get(code="RM")
    region.procurement_email = "ny-adresse@rm.dk"
    region.save()

    assert "ny-adresse@rm.dk" in Client().get(DETAIL).content.decode()


def test_the_seeded_regions_each_have_a_procurement_contact(regions):
    for region in Region.objects.all():
        assert region.procurement_email.endswith(".dk"), region.code
        assert region.procurement_url.startswith("https://"), region.code
        assert region.procurement_contact, region.code


def test_seeding_again_fills_an_empty_contact_and_keeps_an_edited_one(regions):
    Region.objects.filter(code="RH").update(procurement_email="")
    Region.objects.filter(code="RM").update(procurement_email="eget@rm.dk")

    collaboration_load(path=settings.COLLABORATION_FILE, add_only=True)

    assert Region.objects.get(code="RH").procurement_email == "udbud@regionh.dk"
    assert Region.objects.get(code="RM").procurement_email == "eget@rm.dk"


def _phase(html: str) -> str:
    return re.search(r"<dt>(?:Fase|Phase)</dt><dd>([^<]*)</dd>", html).group(1)


@pytest.mark.parametrize(
    ("reference", "danish", "english"),
    [
        ("FUP-2026-101", "Kommende", "Upcoming"),  # planned: was "Kommende (Kommende)"
        ("FUP-2025-050", "Aktuelle", "Current"),  # in tender: was "Aktuelle (Aktuel)"
        ("FUP-2025-060", "Aktuelle", "Current"),  # planned but published: not "(Kommende)"
        ("FUP-2023-010", "Afsluttede (I kontraktperiode)", "Completed (In contract period)"),
    ],
)
def test_the_phase_never_repeats_a_word(plan, reference, danish, english):
    url = reverse("public:detail", args=[reference])

    assert _phase(Client().get(url).content.decode()) == danish
    assert _phase(english_client().get(url).content.decode()) == english


def test_an_ended_case_says_completed_once_in_either_language(plan):
    TenderCase.objects.filter(pk=plan["beds"].pk).update(status=TenderCase.Status.ENDED)

    url = reverse("public:detail", args=["FUP-2023-010"])
    assert _phase(Client().get(url).content.decode()) == "Afsluttede"
    assert _phase(english_client().get(url).content.decode()) == "Completed"
