"""RSS, iCal, CSV and xlsx: parsed with standard parsers, for the same filters as the page."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
from decimal import Decimal

import feedparser
import icalendar
import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from tenders.models import TenderCase
from tests.public.conftest import english_client

pytestmark = pytest.mark.django_db


def get(name: str, **params):
    return Client().get(reverse(f"public:{name}"), params)


def get_in_english(name: str, **params):
    """Headers and titles are in the visitor's language; the Danish catalogue is separate."""
    return english_client().get(reverse(f"public:{name}"), params)


# RSS -------------------------------------------------------------------------------------


def test_rss_lists_publishable_tenders_newest_change_first(plan):
    plan["beds"].title = "Hospitalssenge og madrasser"
    plan["beds"].save()

    response = get_in_english("feed")
    feed = feedparser.parse(response.content)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    assert not feed.bozo, feed.bozo_exception
    titles = [entry.title for entry in feed.entries]
    assert titles[0] == "Changed: Hospitalssenge og madrasser"
    assert "New: Sutur og hæftemateriale" in titles
    assert not any("Intern sag" in title for title in titles)
    changed = feed.entries[0]
    assert "Hospitalssenge" in changed.summary and "madrasser" in changed.summary
    assert changed.link.endswith("/udbud/FUP-2023-010/")
    assert changed.id.startswith("FUP-2023-010@")


def test_rss_takes_the_listing_filters(plan):
    feed = feedparser.parse(get("feed", lead_region="RSD", tab="current").content)

    assert [entry.link.rsplit("/", 2)[-2] for entry in feed.entries] == ["FUP-2025-060"]
    assert "lead_region=RSD" in feed.feed.link


def test_rss_bad_parameter_is_400_with_the_reason(plan):
    response = get("feed", year="soon")

    assert response.status_code == 400
    assert "Forventet start, år:" in response.content.decode()  # the field, in Danish


def test_an_internal_only_edit_does_not_make_a_case_look_changed(plan):
    plan["sutures"].internal_notes = "kun internt"
    plan["sutures"].save()

    feed = feedparser.parse(get_in_english("feed").content)
    sutures = next(e for e in feed.entries if "Sutur" in e.title)

    assert sutures.title == "New: Sutur og hæftemateriale"


# iCal ------------------------------------------------------------------------------------


def test_calendar_has_one_all_day_event_per_expected_start(plan):
    response = get("calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    sutures = events["rfi-public-FUP-2026-101-expected-start"]
    assert sutures.decoded("dtstart") == dt.date(2027, 5, 15)
    assert sutures.decoded("dtend") == dt.date(2027, 5, 16)
    assert "Sutur og hæftemateriale" in str(sutures["summary"])
    assert "/udbud/FUP-2026-101/" in str(sutures["url"])
    assert "Region Hovedstaden" in str(sutures["description"])  # on an option
    assert "Region Nordjylland" not in str(sutures["description"])  # opted out
    assert "rfi-public-FUP-2026-104-expected-start" not in events  # not publishable


def test_calendar_takes_the_listing_filters(plan):
    calendar = icalendar.Calendar.from_ical(get("calendar", year="2027", quarter="3").content)

    assert [str(e["uid"]) for e in calendar.walk("VEVENT")] == [
        "rfi-public-FUP-2026-103-expected-start"
    ]


def test_calendar_bad_parameter_is_400(plan):
    assert get("calendar", category="abc").status_code == 400


# CSV and xlsx ------------------------------------------------------------------------------


def test_csv_holds_what_the_page_shows_for_the_filter(plan):
    response = get_in_english("csv", tab="upcoming")
    text = response.content.decode("utf-8")

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert [row["Reference"] for row in rows] == ["FUP-2026-101", "FUP-2026-103"]
    sutures = rows[0]
    assert sutures["Title"] == "Sutur og hæftemateriale"
    assert sutures["Category (CPV)"] == "33141000-0"
    assert sutures["Lead"] == "Central Denmark Region"
    assert sutures["Participating regions"] == "Central Denmark Region, Region of Southern Denmark"
    assert sutures["On an option"] == "Capital Region of Denmark"
    assert sutures["Expected tender start"] == "2027-05-15"
    assert sutures["Contract end"] == "2032-02-28"
    assert sutures["Estimated annual value"] == "12500000,00"
    assert sutures["Link"].endswith("/udbud/FUP-2026-101/")


def test_csv_without_a_tab_holds_every_publishable_case(plan):
    text = get("csv").content.decode("utf-8").lstrip("\ufeff")
    references = {row[0] for row in list(csv.reader(io.StringIO(text), delimiter=";"))[1:]}

    assert references == {
        "FUP-2026-101",
        "FUP-2025-050",
        "FUP-2025-060",
        "FUP-2023-010",
        "FUP-2026-102",
        "FUP-2026-103",
    }


def test_csv_opens_in_a_danish_excel_semicolons_decimal_comma_and_bom(plan):
    plan["sutures"].estimated_annual_value = Decimal("12500000.50")
    plan["sutures"].title = "Sutur; hæfteklammer"
    plan["sutures"].save()

    content = get_in_english("csv", tab="upcoming").content

    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    lines = content.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("Reference;Title;Phase;")
    # A semicolon inside a title is quoted, the amount has a decimal comma, no thousands mark.
    assert lines[1].startswith('FUP-2026-101;"Sutur; hæfteklammer";Upcoming;33141000-0;')
    assert ";12500000,50;" in lines[1]
    assert ";2027-05-15;" in lines[1]


def test_csv_international_form_has_commas_and_a_decimal_point(plan):
    plan["sutures"].estimated_annual_value = Decimal("12500000.50")
    plan["sutures"].save()

    content = get_in_english("csv", tab="upcoming", format="international").content

    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0]["Reference"] == "FUP-2026-101"
    assert rows[0]["Estimated annual value"] == "12500000.50"
    assert content.decode("utf-8-sig").startswith("Reference,Title,Phase,")


def test_csv_unknown_format_is_400(plan):
    response = get("csv", format="excel")

    assert response.status_code == 400
    assert "international" in response.content.decode()


def test_csv_keeps_its_formula_guard_in_the_danish_form(plan):
    plan["sutures"].description = ""
    TenderCase.objects.filter(pk=plan["sutures"].pk).update(title='=HYPERLINK("http://x","y")')

    text = get("csv", tab="upcoming").content.decode("utf-8-sig")

    assert ';"\'=HYPERLINK(""http://x"",""y"")";' in text


def test_xlsx_has_typed_cells_for_the_filter(plan):
    response = get_in_english("xlsx", tab="completed")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert rows[0][0] == "Reference"
    assert len(rows) == 2
    beds = dict(zip(rows[0], rows[1], strict=True))
    assert beds["Reference"] == "FUP-2023-010"
    assert beds["Contract start"].date() == dt.date(2024, 1, 1)
    assert beds["On an option"] == "North Denmark Region"


def test_export_headers_follow_the_language(plan):
    client = Client()
    client.post(reverse("set_language"), {"language": "en"})
    english = client.get(reverse("public:csv")).content.decode("utf-8")
    client.post(reverse("set_language"), {"language": "da"})
    danish = client.get(reverse("public:csv")).content.decode("utf-8")

    assert "Central Denmark Region" in english
    assert "Region Midtjylland" in danish and "Central Denmark Region" not in danish


@pytest.mark.parametrize("name", ["csv", "xlsx"])
def test_export_bad_parameter_is_400(plan, name):
    response = get(name, lead_region="ZZ")

    assert response.status_code == 400
    assert "Tovholderregion:" in response.content.decode()


@pytest.mark.parametrize("name", ["feed", "calendar", "csv", "xlsx"])
def test_feeds_and_files_are_gzipped_for_clients_that_ask(plan, name):
    plain = Client().get(reverse(f"public:{name}"))
    packed = Client().get(reverse(f"public:{name}"), headers={"accept-encoding": "gzip"})

    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert gzip.decompress(packed.content) == plain.content


def test_rss_descriptions_are_html_with_a_line_break_per_line(plan):
    # given: a title with markup-like characters
    plan["beds"].title = "Senge <store> & små"
    plan["beds"].save()

    # when
    response = get_in_english("feed")
    feed = feedparser.parse(response.content)

    # then: the reader gets HTML: one <br> per line, the text itself escaped
    changed = feed.entries[0]
    description = changed.description
    assert changed.summary_detail.type == "text/html"
    lines = re.split(r"<br\s*/?>", description)
    assert len(lines) >= 5, description  # the change, an empty line, category, lead, regions
    assert lines[1].strip() == ""
    assert lines[2].strip().startswith("Category: ")
    assert lines[3].strip().startswith("Lead: ")
    assert "Senge &lt;store&gt; &amp; små" in lines[0] and "<store>" not in description
    # the raw XML carries the HTML entity-encoded, as RSS 2.0 descriptions do
    assert b"&lt;br&gt;" in response.content
