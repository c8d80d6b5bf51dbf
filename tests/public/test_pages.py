"""The portal's pages through their URLs: tabs, filters, search, sort, pages, detail, region."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tenders.models import Participation
from tests.public.conftest import english_client, make_tender

pytestmark = pytest.mark.django_db

INDEX = reverse("public:index")


def references(response) -> list[str]:
    """The references in the listing's table, in order."""
    html = response.content.decode()
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<a href="/udbud/(FUP-\d{4}-\d{3})/">', table)


def get(url: str, **params):
    return Client().get(url, params)


def test_tabs_split_the_plan_by_status_and_publication_date(plan):
    upcoming = get(INDEX)
    current = get(INDEX, tab="current")
    completed = get(INDEX, tab="completed")

    assert upcoming.status_code == 200
    # Upcoming by default, earliest expected start first.
    assert references(upcoming) == ["FUP-2026-101", "FUP-2026-103"]
    # In tender, or planned with its publication date passed.
    assert references(current) == ["FUP-2025-060", "FUP-2025-050"]
    assert references(completed) == ["FUP-2023-010"]
    # Tab counts are shown on every tab.
    assert "(2)" in upcoming.content.decode() and "(1)" in upcoming.content.decode()


def test_cancelled_and_unpublishable_cases_are_in_no_tab(plan):
    listed = set()
    for tab in ("upcoming", "current", "completed"):
        listed |= set(references(get(INDEX, tab=tab)))

    assert "FUP-2026-102" not in listed  # cancelled
    assert "FUP-2026-104" not in listed  # not publishable


def test_a_row_shows_category_lead_regions_start_contract_and_value(plan):
    html = get(INDEX).content.decode()
    row = html.split("FUP-2026-101", 1)[1].split("</tr>", 1)[0]

    assert "33141000-0" in row and "Ikke-kemiske medicinske" in row
    assert "Region Midtjylland" in row and "Region Syddanmark" in row
    assert "Region Hovedstaden" in row  # on an option
    assert "Region Nordjylland" not in row  # opted out: never shown
    assert "Region Sjælland" not in row  # pending: never shown
    assert "15-05-2027" in row and "2027" in row
    assert "01-03-2028" in row and "28-02-2032" in row
    assert "12.500.000 kr." in row


def test_option_regions_are_in_their_own_column(plan):
    html = get(INDEX).content.decode()
    row = html.split("FUP-2026-101", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
    participating, option = cells[2], cells[3]

    assert "Region Hovedstaden" in option and "Region Hovedstaden" not in participating
    assert "Region Syddanmark" in participating


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "33100000"}, ["FUP-2026-101"]),
        ({"category": "33000000-0", "tab": "current"}, ["FUP-2025-060"]),
        ({"category": "30000000"}, ["FUP-2026-103"]),
        ({"lead_region": "RM"}, ["FUP-2026-101"]),
        ({"region": "RH"}, ["FUP-2026-101"]),  # on an option counts
        ({"region": "RN"}, ["FUP-2026-103"]),  # opted out of 101: not listed there
        ({"region": "RSJ"}, []),  # pending on 101: not listed
        ({"year": "2027", "quarter": "2"}, ["FUP-2026-101"]),
        ({"year": "2027", "quarter": "3"}, ["FUP-2026-103"]),
        ({"year": "2027"}, ["FUP-2026-101", "FUP-2026-103"]),
        ({"kind": "one_off", "tab": "completed"}, ["FUP-2023-010"]),
        ({"kind": "one_off"}, []),
        ({"q": "sutur"}, ["FUP-2026-101"]),
        ({"q": "operationsafsnit"}, ["FUP-2026-101"]),  # description
        ({"q": "printere ski"}, ["FUP-2026-103"]),  # every word must match
        ({"q": "Intern"}, []),  # the unpublishable case stays hidden
        ({"sort": "-start"}, ["FUP-2026-103", "FUP-2026-101"]),
        ({"sort": "title"}, ["FUP-2026-103", "FUP-2026-101"]),
    ],
)
def test_filters_search_and_sort(plan, params, expected):
    response = get(INDEX, **params)

    assert response.status_code == 200
    assert references(response) == expected


def test_filter_state_is_kept_in_the_form_and_the_tab_links(plan):
    html = get(INDEX, lead_region="RM", year="2027", q="sutur").content.decode()

    assert '<option value="RM" selected>' in html
    assert 'name="year" min="2000" max="2100" inputmode="numeric" value="2027"' in html
    assert 'value="sutur"' in html
    assert "?lead_region=RM&amp;year=2027&amp;q=sutur&amp;tab=current" in html


def test_category_filter_offers_the_cpv_tree_of_published_cases(plan):
    html = get(INDEX).content.decode()
    chosen = get(INDEX, category="33141000").content.decode()

    assert '<option value="33000000">' in html  # division above a published case
    assert '<option value="33100000">' in html  # group
    assert '<option value="33140000">' in html  # class
    assert '<option value="33141000">' not in html  # finer codes only through the URL …
    assert '<option value="33141000" selected>' in chosen  # … and then shown as chosen
    assert '<option value="30190000">' in html
    assert '<option value="33192000">' not in html


def test_pagination_pages_through_fifty_rows_at_a_time(plan, regions):
    for number in range(60):
        make_tender(
            f"FUP-2030-{number:03d}",
            category=plan["sutures"].category,
            lead_region=regions["RN"],
            status="planned",
        )

    first = get(INDEX, lead_region="RN")
    second = get(INDEX, lead_region="RN", page="2")
    beyond = get(INDEX, lead_region="RN", page="3")

    assert len(references(first)) == 50
    assert len(references(second)) == 10
    assert "page=2" in first.content.decode() and "lead_region=RN" in first.content.decode()
    assert beyond.status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tab": "soon"}, "Tab:"),
        ({"category": "33"}, "8 digits"),
        ({"category": "12345678"}, "not in the category tree"),
        ({"lead_region": "XX"}, "Lead region:"),
        ({"region": "<script>"}, "Participating region:"),
        ({"year": "twenty"}, "Expected start, year:"),
        ({"year": "1850"}, "Expected start, year:"),
        ({"quarter": "2"}, "choose a year with the quarter"),
        ({"year": "2027", "quarter": "5"}, "A quarter is 1, 2, 3 or 4"),
        ({"kind": "lease"}, "Kind:"),
        ({"sort": "internal_notes"}, "Sort by:"),
        ({"q": "x" * 101}, "Search:"),
        ({"page": "two"}, "page"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_parameters_answer_400_with_the_reason(plan, params, message):
    urls = [INDEX, reverse("public:region", args=["RM"])]
    if "page" not in params:
        urls.append(reverse("public:timeline"))  # one page: it takes no page number
    for url in urls:
        if url != INDEX and "region" in params:
            continue  # the region page names its region in the path
        response = english_client().get(url, params)

        assert response.status_code == 400, url
        assert message in response.content.decode()
        assert "<script>" not in response.content.decode()


def test_filter_errors_name_the_fields_in_danish_all_at_once(plan):
    response = Client().get(INDEX, {"kind": "lease", "year": "tyve", "quarter": "2"})

    assert response.status_code == 400
    text = response.content.decode()
    assert "Type: " in text
    assert "Forventet start, år: " in text
    assert "kind:" not in text and "year:" not in text


def test_a_parameter_given_twice_is_refused(plan):
    response = english_client().get(INDEX + "?tab=upcoming&tab=current")

    assert response.status_code == 400
    assert "once" in response.content.decode()


def test_unknown_parameters_are_ignored(plan):
    response = get(INDEX, utm_source="newsletter")

    assert response.status_code == 200
    assert references(response) == ["FUP-2026-101", "FUP-2026-103"]


def test_detail_shows_the_public_facts_of_a_tender(plan):
    response = get(reverse("public:detail", args=["FUP-2026-101"]))
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1>Sutur og hæftemateriale</h1>" in html
    assert "Suturer, hæfteklammer og vævslim" in html
    assert "33141000-0" in html and "Ikke-kemiske medicinske" in html
    assert "15-05-2027" in html and "01-03-2028" in html and "28-02-2032" in html
    regions_table = html.split('id="regions-heading"', 1)[1].split("</table>", 1)[0]
    assert "Region Midtjylland" in regions_table and "Region Hovedstaden" in regions_table
    assert "Region Nordjylland" not in regions_table and "Region Sjælland" not in regions_table
    contact = html.split('id="contact-heading"', 1)[1].split("</section>", 1)[0]
    assert "Region Midtjylland" in contact
    assert reverse("public:region", args=["RM"]) in contact


def test_detail_of_a_partner_led_tender_names_the_partner(plan):
    html = get(reverse("public:detail", args=["FUP-2026-103"])).content.decode()

    assert "SKI" in html


@pytest.mark.parametrize("reference", ["FUP-2026-104", "FUP-9999-999", "nothing"])
def test_unknown_or_unpublished_reference_is_404(plan, reference):
    assert get(reverse("public:detail", args=[reference])).status_code == 404


def test_unknown_region_is_404(plan):
    assert get(reverse("public:region", args=["XX"])).status_code == 404


def test_region_page_lists_what_it_leads_and_joins_with_its_role(plan):
    response = get(reverse("public:region", args=["RH"]), tab="completed")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Region Hovedstaden" in html
    assert references(response) == ["FUP-2023-010"]
    upcoming = get(reverse("public:region", args=["RH"]))
    assert references(upcoming) == ["FUP-2026-101"]  # on an option
    current = get(reverse("public:region", args=["RH"]), tab="current")
    assert references(current) == ["FUP-2025-050"]  # leads


def test_region_page_of_a_region_that_opted_out_does_not_list_the_case(plan):
    response = get(reverse("public:region", args=["RN"]))

    assert "FUP-2026-101" not in response.content.decode()
    assert references(response) == ["FUP-2026-103"]


def test_timeline_groups_expected_starts_by_quarter(plan):
    response = get(reverse("public:timeline"))
    html = response.content.decode()

    assert response.status_code == 200
    q2 = html.split('id="q2027-2"', 1)[1].split("</li>\n  \n  <li>", 1)[0]
    assert "Sutur og hæftemateriale" in q2 and "Printere via SKI" not in q2
    q3 = html.split('id="q2027-3"', 1)[1]
    assert "Printere via SKI" in q3
    assert html.index('id="q2027-2"') < html.index('id="q2027-3"')


def test_change_log_speaks_of_public_fields_only(plan, regions):
    tender = plan["sutures"]
    tender.expected_tender_start = tender.expected_tender_start.replace(month=8)
    tender.internal_notes = "noget internt"
    tender.save()
    tender.internal_notes = "endnu mere internt"
    tender.save()
    participation = tender.participations.get(region=regions["RSJ"])
    participation.status = Participation.Status.OPTION
    participation.save()

    html = get(reverse("public:detail", args=[tender.reference])).content.decode()
    log = html.split('id="changes-heading"', 1)[1].split("</section>", 1)[0]
    entries = re.findall(r"<li>(.*?)</li>", log, flags=re.S)

    assert any("Q2 2027" in e and "Q3 2027" in e for e in entries), entries
    assert any("Region Sjælland" in e for e in entries), entries
    # The two internal-only saves add nothing.
    assert len(entries) == 3, entries


def test_changes_before_publication_stay_internal(plan):
    tender = plan["internal"]
    tender.title = "Dialyse"
    tender.save()
    tender.is_publishable = True
    tender.save()

    html = get(reverse("public:detail", args=[tender.reference])).content.decode()
    log = html.split('id="changes-heading"', 1)[1].split("</section>", 1)[0]

    assert "Intern sag" not in log
    assert len(re.findall(r"<li>", log)) == 1


def test_english_by_the_language_switch(plan):
    client = Client()
    danish = client.get(reverse("public:detail", args=["FUP-2026-101"])).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/udbud/"})
    english = client.get(reverse("public:detail", args=["FUP-2026-101"])).content.decode()

    assert '<html lang="da">' in danish and "Medicinsk" not in english
    assert "Region Midtjylland" in danish and "Central Denmark Region" not in danish
    assert '<html lang="en">' in english
    assert "Central Denmark Region" in english
    assert "Disposable non-chemical medical consumables" in english
    assert "Ikke-kemiske" in danish and "Ikke-kemiske" not in english


def test_amounts_and_dates_follow_the_language(plan):
    client = Client()
    client.post(reverse("set_language"), {"language": "en", "next": "/udbud/"})
    english = client.get(INDEX).content.decode()
    danish = Client().get(INDEX).content.decode()

    assert "12.500.000 kr." in danish
    assert "DKK 12,500,000" in english


def test_pages_work_for_signed_in_users_too(plan, officer_rm):
    client = Client()
    client.force_login(officer_rm)

    response = client.get(INDEX)

    assert response.status_code == 200
    assert references(response) == ["FUP-2026-101", "FUP-2026-103"]
    assert "officer_rm" in response.content.decode()


def test_the_change_log_dates_are_valid_html_datetimes(plan):
    # when
    html = get(reverse("public:detail", args=["FUP-2026-101"])).content.decode()

    # then: whole seconds and the offset, as <time datetime> allows (no six-digit fraction)
    values = re.findall(r'<time datetime="([^"]+)"', html)
    assert values, html
    for value in values:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", value), value


def test_the_filter_form_has_no_empty_action(plan):
    html = get(reverse("public:index")).content.decode()

    form = re.search(r'<form method="get"[^>]*class="public-filter"[^>]*>', html).group(0)
    assert "action" not in form, form
