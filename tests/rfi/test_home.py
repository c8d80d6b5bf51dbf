"""The home page as each role's task list (rfi/home.py), and the plan's pages sorted by urgency.

Hand-built fixtures; pages are read in Danish (the default) unless said otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from rfi.models import Category, Membership
from spend.models import ImportBatch
from suppliers.models import Contract, Supplier
from tenders import services
from tenders.models import CandidateArea, Participation, ScoreSheet, TenderCase
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.kpi import dashboard_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def category(db) -> Category:
    category, _ = Category.objects.get_or_create(
        code="33141000",
        defaults={"check_digit": "0", "label_en": "Consumables", "label_da": "Forbrug", "level": 4},
    )
    return category


def make_tender(actor, category, lead, title: str, deadline: dt.date | None) -> TenderCase:
    return services.tender_create(
        actor=actor,
        title=title,
        category=category,
        area=TenderCase.Area.MEDICO_ACQUISITIONS,
        kind=TenderCase.Kind.FRAMEWORK,
        has_options=True,
        lead_region=lead,
        decision_deadline=deadline,
    )


def section(response, role: str) -> str:
    """The HTML of one role's section of the home page."""
    html = response.content.decode()
    match = re.search(rf'<section[^>]*data-testid="home-{role}".*?</section>', html, re.S)
    assert match, f"no {role} section"
    return match.group(0)


def task_list(section_html: str, key: str) -> str:
    match = re.search(
        rf'<div class="home-list" data-testid="home-list-{key}">.*?</div>', section_html, re.S
    )
    assert match, f"no list {key}"
    return match.group(0)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def links(html: str) -> list[str]:
    return [unescape(url) for url in re.findall(r'<a href="([^"]+)"', html)]


def assert_links_resolve(client, html: str) -> None:
    for url in links(html):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


@pytest.fixture
def plan(officer_rm, regions, category):
    """RM's pending decisions: one overdue, one due later, one without a deadline."""
    today = timezone.localdate()
    later = make_tender(officer_rm, category, regions["RM"], "Senge", today + dt.timedelta(days=20))
    undated = make_tender(officer_rm, category, regions["RM"], "Handsker", None)
    overdue = make_tender(officer_rm, category, regions["RM"], "Katetre", today - dt.timedelta(5))
    return {"later": later, "undated": undated, "overdue": overdue}


# Officer --------------------------------------------------------------------------------------


def test_an_officer_sees_pending_decisions_overdue_first_with_deadline_and_form_link(
    plan, officer_rm
):
    client = client_for(officer_rm)
    response = client.get(reverse("home"))

    pending = task_list(section(response, "officer"), "pending")
    titles = re.findall(r"(Katetre|Senge|Handsker)", text(pending))
    assert titles == ["Katetre", "Senge", "Handsker"]
    assert "Overskredet" in text(pending).split("Senge")[0]
    assert "Overskredet" not in text(pending).split("Senge")[1]
    assert "Ingen beslutningsfrist" in text(pending)
    form_url = reverse("tenders:participation", args=[plan["overdue"].reference, "RM"])
    assert links(pending)[0] == form_url
    assert_links_resolve(client, pending)


def test_an_officer_sees_missing_explanations_options_due_uploads_and_contracts(
    plan, officer_rm, regions, category
):
    today = timezone.localdate()
    rm = regions["RM"]
    Participation.objects.filter(tender=plan["later"], region=rm).update(
        status=Participation.Status.OPTED_OUT, justification="For dyrt"
    )
    Participation.objects.filter(tender=plan["undated"], region=rm).update(
        status=Participation.Status.OPTION, option_expected_join=today + dt.timedelta(days=30)
    )
    batch = ImportBatch.objects.create(
        region=rm,
        source=ImportBatch.Source.UPLOAD,
        file_name="kreditorer-2026.csv",
        sha256="0" * 64,
        status=ImportBatch.Status.FAILED,
        rows_total=60000,
    )
    batch.file.save("kreditorer-2026.csv", ContentFile(b"a;b\n"), save=True)
    supplier = Supplier.objects.create(identifier="DK12345678", name="Medico A/S")
    contract = Contract.objects.create(
        region=rm,
        supplier=supplier,
        title="Sårpleje",
        category=category,
        start_date=today - dt.timedelta(days=700),
        end_date=today + dt.timedelta(days=100),
        annual_value=Decimal("1234567.60"),
    )
    Contract.objects.create(
        region=rm,
        supplier=supplier,
        title="Langt væk",
        category=category,
        start_date=today,
        end_date=today + dt.timedelta(days=800),
    )
    client = client_for(officer_rm)

    officer = section(client.get(reverse("home")), "officer")

    explanations = task_list(officer, "explanations")
    assert "Senge" in text(explanations) and "Katetre" not in text(explanations)
    options = task_list(officer, "options")
    assert "Handsker" in text(options)
    assert reverse("tenders:detail", args=[plan["undated"].reference]) in links(options)
    uploads = task_list(officer, "uploads")
    assert "kreditorer-2026.csv" in text(uploads)
    assert "Afvist" in text(uploads) and "60.000 linjer" in text(uploads)
    contracts = task_list(officer, "contracts")
    assert "Sårpleje" in text(contracts) and "Langt væk" not in text(contracts)
    assert "1.234.568 kr." in text(contracts)
    assert reverse("suppliers:detail", args=[contract.pk]) in links(contracts)
    for html in (explanations, options, uploads, contracts):
        assert_links_resolve(client, html)


def test_an_officer_with_nothing_to_do_is_told_so(officer_rm):
    response = client_for(officer_rm).get(reverse("home"))

    officer = section(response, "officer")
    assert "Intet at gøre lige nu." in text(officer)
    assert "Ingen beslutninger venter." in text(officer)


def test_the_home_page_reads_in_english_after_the_switch(plan, officer_rm):
    client = client_for(officer_rm)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    pending = task_list(section(client.get(reverse("home")), "officer"), "pending")

    assert "Participation decisions waiting" in text(pending)
    assert "Overdue" in text(pending) and "No decision deadline" in text(pending)


def test_a_user_with_two_roles_in_two_regions_sees_each_section(plan, officer_rm, regions):
    MembershipFactory(user=officer_rm, region=regions["RSD"], role=Membership.Role.OFFICER)
    MembershipFactory(user=officer_rm, region=regions["RM"], role=Membership.Role.CHIEF)

    response = client_for(officer_rm).get(reverse("home"))

    html = response.content.decode()
    assert html.count('data-testid="home-officer"') == 2
    assert html.count('data-testid="home-chief"') == 1
    assert "Region Syddanmark" in text(html) or "RSD" in html


# UFO --------------------------------------------------------------------------------------------


def test_a_ufo_member_sees_the_candidates_waiting_for_their_score(ufo_member, regions, category):
    other = MembershipFactory(region=regions["RSD"], role=Membership.Role.UFO).user
    waiting = CandidateArea.objects.create(title="Sprøjter", category=category, plan_year=2027)
    done = CandidateArea.objects.create(title="Vasketøj", category=category, plan_year=2027)
    CandidateArea.objects.create(
        title="Allerede anbefalet",
        category=category,
        plan_year=2027,
        status=CandidateArea.Status.RECOMMENDED,
    )
    ScoreSheet.objects.create(candidate=waiting, scorer=other)
    ScoreSheet.objects.create(candidate=done, scorer=ufo_member)
    client = client_for(ufo_member)

    ufo = task_list(section(client.get(reverse("home")), "ufo"), "to-score")

    assert "Sprøjter" in text(ufo)
    assert "Vasketøj" not in text(ufo) and "Allerede anbefalet" not in text(ufo)
    assert "1 af 2 medlemmer har scoret" in text(ufo)
    assert links(ufo) == [reverse("tenders:candidate_score", args=[waiting.pk])]
    assert_links_resolve(client, ufo)


def test_a_ufo_member_with_nothing_to_score_is_told_so(ufo_member):
    ufo = section(client_for(ufo_member).get(reverse("home")), "ufo")

    assert "Intet at gøre lige nu." in text(ufo)


# Chief ------------------------------------------------------------------------------------------


def test_a_chief_sees_recommendations_and_the_kpis_furthest_off_target(chief, category):
    dashboard_data.build()
    recommended = CandidateArea.objects.create(
        title="Infusionspumper",
        category=category,
        plan_year=2027,
        status=CandidateArea.Status.RECOMMENDED,
        recommended_at=timezone.now(),
    )
    client = client_for(chief)

    chief_html = section(client.get(reverse("home")), "chief")

    decisions = task_list(chief_html, "decisions")
    assert "Infusionspumper" in text(decisions)
    assert links(decisions) == [reverse("tenders:candidate_decide", args=[recommended.pk])]
    # once RM's chief has voted, the area leaves RM's list (the other regions still vote)
    services.candidate_vote(candidate=recommended, actor=chief, decision="approve")
    after = task_list(section(client.get(reverse("home")), "chief"), "decisions")
    assert "Infusionspumper" not in text(after)
    assert "Ingen indstillinger venter på din stemme." in text(after)
    kpis = task_list(chief_html, "kpis")
    # spot purchases 120 against ≤ 100 (20 % off) before services coverage 70 % against 75 %
    assert re.findall(r"#card-region-(\w+)", pending := "".join(links(kpis))) == [
        "spot_purchases",
        "contract_coverage_services",
    ], pending
    assert "compliance" not in pending  # on track
    assert "70,0 %" in text(kpis)
    assert any("#comparison-heading" in url for url in links(chief_html))
    assert_links_resolve(client, chief_html)


def test_a_chief_without_kpi_figures_is_told_so(chief):
    chief_html = section(client_for(chief).get(reverse("home")), "chief")

    assert "Ingen KPI-tal endnu." in text(chief_html)
    assert "Intet at gøre lige nu." in text(chief_html)


# Secretariat ------------------------------------------------------------------------------------


def test_the_secretariat_sees_the_plans_health(secretariat, officer_rm, regions, category):
    today = timezone.localdate()
    undated = make_tender(officer_rm, category, regions["RM"], "Handsker", None)
    old = make_tender(officer_rm, category, regions["RM"], "Katetre", today + dt.timedelta(9))
    # RSD has been pending on "Katetre" for 40 days; the others decided
    created = timezone.now() - dt.timedelta(days=40)
    Participation.history.filter(tender_id=old.pk).update(history_date=created)
    Participation.objects.filter(tender=old).exclude(region=regions["RSD"]).update(
        status=Participation.Status.FULL
    )
    failed = ImportBatch.objects.create(
        region=regions["RH"],
        source=ImportBatch.Source.API,
        file_name="rh.csv",
        sha256="1" * 64,
        status=ImportBatch.Status.FAILED,
        message="Kolonnen Beløb mangler.",
    )
    failed.file.save("rh.csv", ContentFile(b"x"), save=True)
    client = client_for(secretariat)

    health = section(client.get(reverse("home")), "secretariat")

    no_deadline = task_list(health, "no-deadline")
    assert "Handsker" in text(no_deadline) and "Katetre" not in text(no_deadline)
    assert links(no_deadline) == [reverse("tenders:edit", args=[undated.reference])]
    long_pending = task_list(health, "long-pending")
    assert "Region Syddanmark" in text(long_pending)
    assert "1 sag" in text(long_pending)
    assert "Region Midtjylland" not in text(long_pending)  # pending on "Handsker" for 0 days
    imports = task_list(health, "failed-imports")
    assert "rh.csv" in text(imports) and "Kolonnen Beløb mangler." in text(imports)
    assert_links_resolve(client, health)


def test_the_secretariat_with_a_healthy_plan_is_told_so(secretariat):
    health = section(client_for(secretariat).get(reverse("home")), "secretariat")

    assert "Intet at gøre lige nu." in text(health)


def test_anonymous_and_outsiders_see_no_tasks(client, outsider, regions):
    for response in (client.get(reverse("home")), client_for(outsider).get(reverse("home"))):
        assert 'data-testid="home-' not in response.content.decode()


# The plan's pages, most urgent first -------------------------------------------------------------


def _references_in(html: str) -> list[str]:
    seen = []
    for reference in re.findall(r'href="/fup/sag/(FUP-[^/"]+)/"', html):
        if reference not in seen:
            seen.append(reference)
    return seen


def _references(response) -> list[str]:
    return _references_in(response.content.decode())


def test_the_region_page_lists_pending_decisions_overdue_first(plan, officer_rm):
    response = client_for(officer_rm).get(reverse("tenders:region", args=["RM"]))

    pending = response.content.decode().split('id="leads-heading"')[0]
    order = [plan[k].reference for k in ("overdue", "later", "undated")]
    assert [r for r in _references_in(pending) if r in order] == order


def test_outstanding_defaults_to_the_users_region_most_urgent_first(plan, officer_rm, regions):
    # RSD has decided on "Senge": with RM's default it still shows (RM pends), RSD's page not
    officer_rsd = MembershipFactory(region=regions["RSD"], role=Membership.Role.OFFICER).user
    Participation.objects.filter(tender=plan["overdue"], region=regions["RSD"]).update(
        status=Participation.Status.FULL
    )
    Participation.objects.filter(tender=plan["later"]).exclude(region=regions["RM"]).update(
        status=Participation.Status.FULL
    )

    mine = client_for(officer_rm).get(reverse("tenders:outstanding"))
    theirs = client_for(officer_rsd).get(reverse("tenders:outstanding"))
    everyone = client_for(officer_rsd).get(reverse("tenders:outstanding"), {"region": ""})

    order = [plan[k].reference for k in ("overdue", "later", "undated")]
    assert _references(mine) == order
    assert 'value="RM" selected' in mine.content.decode()
    assert _references(theirs) == [plan["undated"].reference]
    assert _references(everyone) == order
