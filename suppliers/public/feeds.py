"""The portal's feeds: RSS of new and changed tenders, iCal of expected tender starts.

Both take the listing's query parameters (``filter_public_tenders``), answer 400 on a
bad one, and are cached under the portal's version key like the pages.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.html import escape
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from rfi.validation import plausible_or_none, printable
from suppliers.public.selectors import (
    PublicChange,
    PublicTenderFilter,
    filter_public_tenders,
    public_change_log,
    public_regions,
)
from suppliers.public.views import PublicRow, quarter_label, serve_file
from tenders.models import TenderCase

FEED_ITEMS = 50
# Cases looked at for the feed: the most recently saved ones. Their public change log
# decides the order, so an internal-only edit never makes a case look changed.
FEED_CANDIDATES = 2 * FEED_ITEMS


def _summary(tender: TenderCase) -> str:
    row = PublicRow(tender, public_regions(tender))
    parts = [
        f"{_('Category')}: {tender.category.full_code} {tender.category.label}",
        f"{_('Lead')}: {tender.lead_name}",
        f"{_('Participating regions')}: " + (", ".join(r.region.name for r in row.full) or "–"),
    ]
    if row.option:
        parts.append(f"{_('On an option')}: " + ", ".join(r.region.name for r in row.option))
    if plausible_or_none(tender.expected_tender_start):
        parts.append(
            f"{_('Expected tender start')}: {row.quarter} "
            f"({tender.expected_tender_start.strftime('%d-%m-%Y')})"
        )
    # Rows stored before text was checked on entry must not break the feed for everyone.
    return printable("\n".join(parts))


class TenderFeed(Feed):
    """RSS 2.0: new and changed publishable tenders, newest public change first."""

    feed_type = Rss201rev2Feed

    def __call__(self, request, *args, **kwargs):
        parent = super().__call__
        return serve_file(request, "rss", lambda r: parent(r, *args, **kwargs))

    def get_object(self, request, *args, **kwargs) -> PublicTenderFilter:
        tender_filter = filter_public_tenders(request.GET)
        tender_filter.query_string = request.GET.urlencode()
        return tender_filter

    def title(self, obj) -> str:
        return _("Joint tenders of the regions: new and changed")

    def link(self, obj) -> str:
        return reverse("public:index") + (f"?{obj.query_string}" if obj.query_string else "")

    def description(self, obj) -> str:
        return _("New and changed joint tenders of the regions, for the chosen filter.")

    def items(self, obj: PublicTenderFilter) -> list[tuple[TenderCase, list[PublicChange]]]:
        candidates = obj.qs.order_by("-updated_at", "reference")[:FEED_CANDIDATES]
        entries = [(tender, public_change_log(tender)) for tender in candidates]
        entries = [entry for entry in entries if entry[1]]
        entries.sort(key=lambda entry: entry[1][0].when, reverse=True)
        return entries[:FEED_ITEMS]

    def item_title(self, item) -> str:
        tender, changes = item
        title = printable(tender.title, multiline=False)
        if len(changes) == 1:
            return _("New: %(title)s") % {"title": title}
        return _("Changed: %(title)s") % {"title": title}

    def item_description(self, item) -> str:
        """HTML, as RSS 2.0 descriptions are: each line escaped, the lines joined by <br>.

        A reader shows plain text's line breaks as spaces; the change, an empty line and
        the summary would run together into one paragraph.
        """
        tender, changes = item
        latest = [c.text for c in changes if c.when == changes[0].when]
        text = printable("\n".join([*latest, "", _summary(tender)]))
        return "<br>\n".join(escape(line) for line in text.split("\n"))

    def item_link(self, item) -> str:
        return reverse("public:detail", args=[item[0].reference])

    def item_guid(self, item) -> str:
        tender, changes = item
        return f"{tender.reference}@{changes[0].when.isoformat()}"

    item_guid_is_permalink = False

    def item_pubdate(self, item) -> dt.datetime:
        return item[1][0].when

    def item_categories(self, item) -> list[str]:
        return [item[0].category.full_code]


def calendar(request) -> HttpResponse:
    """Expected tender starts as all-day events (iCalendar), for the listing's filters."""
    return serve_file(request, "ics", _calendar)


def _calendar(request) -> HttpResponse:
    tender_filter = filter_public_tenders(request.GET)
    tenders = tender_filter.qs.filter(expected_tender_start__isnull=False).order_by(
        "expected_tender_start", "reference"
    )
    cal = Calendar()
    cal.add("prodid", "-//Regionernes Faelles Indkob//Public tender plan//DA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("Expected starts of the regions' joint tenders"))
    now = timezone.now()
    for tender in tenders:
        # A start stored before dates were bounded (9999-12-31) is left out, not a 500.
        start = plausible_or_none(tender.expected_tender_start)
        if start is None:
            continue
        event = Event()
        event.add("uid", f"rfi-public-{tender.reference}-expected-start")
        event.add(
            "summary",
            _("Expected tender start: %(title)s")
            % {"title": printable(tender.title, multiline=False)},
        )
        event.add("dtstart", start)
        event.add("dtend", start + dt.timedelta(days=1))
        event.add("dtstamp", now)
        event.add("last-modified", tender.updated_at)
        event.add("transp", "TRANSPARENT")
        url = request.build_absolute_uri(reverse("public:detail", args=[tender.reference]))
        event.add("url", url)
        event.add(
            "description",
            "\n".join([f"{tender.reference} · {quarter_label(start)}", _summary(tender), "", url]),
        )
        event.add("categories", [tender.category.full_code])
        cal.add_component(event)
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kalender.ics"'
    return response
