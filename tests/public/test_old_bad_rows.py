"""Rows stored before text and dates were checked on entry never break a public file.

They are written with the ORM (as an old release or a database restore would have), then
every public URL is read: all answer 200, and the feeds still parse.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import feedparser
import icalendar
import openpyxl
import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from tenders.models import TenderCase

pytestmark = pytest.mark.django_db

BAD_TITLE = "Senge\x0bogmadrasser\x1b[31m\ufffe"  # (PostgreSQL stores no NUL at all)
BAD_START = dt.date(9999, 12, 31)


@pytest.fixture
def bad_rows(plan):
    TenderCase.objects.filter(pk=plan["beds"].pk).update(
        title=BAD_TITLE, description="Linje 1\x07\nLinje 2", expected_tender_start=BAD_START
    )
    return plan


def public_urls(plan) -> list[str]:
    """Every public route without a token: fixed paths plus one region and one case."""
    resolver = get_resolver()
    public = next(p for p in resolver.url_patterns if getattr(p, "namespace", None) == "public")
    urls = []
    for pattern in public.url_patterns:
        assert isinstance(pattern, URLPattern)
        converters = pattern.pattern.converters
        if not converters:
            urls.append(reverse(f"public:{pattern.name}"))
        elif pattern.name == "region":
            urls.append(reverse("public:region", args=["RM"]))
        elif pattern.name == "detail":
            urls.append(reverse("public:detail", args=[plan["beds"].reference]))
    return urls


def test_every_public_url_answers_200_on_old_bad_rows(bad_rows):
    urls = public_urls(bad_rows)
    assert len(urls) >= 9, urls  # listing, timeline, region, feed, ics, csv, xlsx, ocds, detail

    failed = {url: Client().get(url).status_code for url in urls}

    assert {url: code for url, code in failed.items() if code != 200} == {}


def test_the_feeds_parse_and_drop_only_the_bad_characters(bad_rows):
    client = Client()
    feed = feedparser.parse(client.get(reverse("public:feed")).content)
    calendar = icalendar.Calendar.from_ical(client.get(reverse("public:calendar")).content)
    csv_text = client.get(reverse("public:csv")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(csv_text), delimiter=";"))  # the Danish Excel form
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(reverse("public:xlsx")).content)).active

    assert not feed.bozo, feed.bozo_exception
    assert any("Sengeogmadrasser[31m" in entry.title for entry in feed.entries)
    summaries = [str(event.get("summary")) for event in calendar.walk("VEVENT")]
    # an expected start of 9999-12-31 is left out of the calendar, the other cases stay
    assert summaries and not any("Senge" in summary for summary in summaries)
    assert ["Sengeogmadrasser[31m"] == [row[1] for row in rows if row[1].startswith("Senge")]
    titles = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "Sengeogmadrasser[31m" in titles
