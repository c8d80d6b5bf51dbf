"""The public supplier portal (/udbud/): no login, only publishable cases and public fields.

Pages are cached whole for anonymous visitors (public_cache: a version key bumped on
every change). They hold nothing per visitor: the language switch is a form without a
CSRF token, and the only public forms with one (the e-mail alerts) are not cached.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from dataclasses import dataclass

from django.core.paginator import EmptyPage, Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from rfi.models import Region
from suppliers.public import cache as public_cache
from suppliers.public.selectors import (
    TAB_UPCOMING,
    TABS,
    BadQuery,
    PublicTenderFilter,
    RegionRole,
    active_regions,
    category_tree_choices,
    filter_public_tenders,
    public_change_log,
    public_contact,
    public_regions,
    public_tender,
    quarter_of,
    tab_of,
)
from tenders.models import TenderCase

PAGE_SIZE = 50


# Serving from the cache ------------------------------------------------------------------


def bad_request(request, error: BadQuery) -> HttpResponse:
    """400 with the reasons, never cached."""
    return render(request, "public/bad_request.html", {"errors": error.messages}, status=400)


def _encoding(request) -> str:
    return "gzip" if "gzip" in request.headers.get("Accept-Encoding", "") else "identity"


def _copies(content: bytes, *meta) -> dict:
    """The plain and the gzipped copy of one cached body, each under its own key."""
    return {
        "identity": (content, *meta),
        "gzip": (gzip.compress(content, compresslevel=6, mtime=0), *meta),
    }


def _encoded_response(content: bytes, content_type: str, encoding: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    if encoding == "gzip":
        response["Content-Encoding"] = "gzip"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _serve_page(request, name: str, build, *parts: str) -> HttpResponse:
    """A page from the cache for anonymous visitors; built afresh for signed-in users.

    Signed-in users see their own navigation, so their pages are not shared. A cached
    page holds no per-visitor secret, so it is kept plain and gzipped, as the feeds
    are, and sent compressed to clients that ask for it (no BREACH-style side channel):
    a listing is 70 KB of HTML, 8 KB gzipped.
    """
    anonymous = not request.user.is_authenticated
    key = public_cache.page_key(name, request, *parts) if anonymous else ""
    encoding = _encoding(request)
    if anonymous:
        version, hit = public_cache.lookup(f"{key}:{encoding}")
        if hit is not None:
            # Entries stored by the previous release carry a third field (always True).
            content, content_type = hit[:2]
            return _encoded_response(content, content_type, encoding)
    try:
        template, context = build(request)
    except BadQuery as error:
        return bad_request(request, error)
    response = render(request, template, context)
    if not anonymous:
        return response
    content, content_type = response.content, response["Content-Type"]
    copies = _copies(content, content_type)
    public_cache.store({f"{key}:{e}": copy for e, copy in copies.items()}, version)
    return _encoded_response(copies[encoding][0], content_type, encoding)


def serve_file(request, name: str, build) -> HttpResponse:
    """A feed or export from the cache: the same bytes for everyone.

    Stored plain and gzipped (feeds and exports run to megabytes; feed readers and
    calendar clients ask for gzip). They hold no per-visitor secret, so compressing
    them opens no BREACH-style side channel.
    """
    # Feeds and files carry absolute links: the host is part of the key.
    key = public_cache.page_key(name, request, request.get_host())
    encoding = _encoding(request)
    # Each copy under its own key: a request fetches only the bytes it sends.
    version, hit = public_cache.lookup(f"{key}:{encoding}")
    if hit is None:
        try:
            response = build(request)
        except BadQuery as error:
            return HttpResponse(
                "\n".join(error.messages),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        copies = _copies(
            response.content, response["Content-Type"], response.get("Content-Disposition")
        )
        public_cache.store({f"{key}:{k}": v for k, v in copies.items()}, version)
        hit = copies[encoding]
    content, content_type, disposition = hit
    response = _encoded_response(content, content_type, encoding)
    if disposition:
        response["Content-Disposition"] = disposition
    return response


# Rows and links --------------------------------------------------------------------------


@dataclass
class PublicRow:
    tender: TenderCase
    regions: list[RegionRole]

    @property
    def full(self) -> list[RegionRole]:
        return [r for r in self.regions if r.role in ("lead", "full")]

    @property
    def option(self) -> list[RegionRole]:
        return [r for r in self.regions if r.role == "option"]

    @property
    def quarter(self) -> str:
        return quarter_label(self.tender.expected_tender_start)


def quarter_label(day) -> str:
    found = quarter_of(day)
    if not found:
        return ""
    return _("Q%(quarter)s %(year)s") % {"quarter": found[1], "year": found[0]}


def _same_word(first: str, second: str) -> bool:
    """Two words that differ at most by an ending ("Aktuelle"/"Aktuel", "Afsluttede"/"Afsluttet")."""
    a, b = first.casefold(), second.casefold()
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= 4 and common >= min(len(a), len(b)) - 1


def phase_label(tender: TenderCase, tab: str | None) -> str:
    """The case's phase for suppliers: the tab, with the status only where it adds something.

    Only a completed case still in its contract period says so; elsewhere the status
    repeats the tab ("Kommende (Kommende)", "Aktuelle (Aktuel)", "Afsluttede
    (Afsluttet)") or contradicts it ("Planned" under the current tab: published, not yet
    started). A status label that shares a word with the tab is never added.
    """
    status = str(tender.get_status_display())
    if tab is None:
        return status
    label = str(dict(TABS)[tab])
    if tender.status != TenderCase.Status.IN_CONTRACT:
        return label
    words = label.split()
    if any(_same_word(w, s) for w in words for s in status.split()):
        return label
    return f"{label} ({status})"


def _query(params: QueryDict, **changes) -> str:
    query = params.copy()
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return query.urlencode()


def _page_number(request) -> int:
    raw = request.GET.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise BadQuery([_("page: give a page number (1, 2, 3, …).")])
    return int(raw)


def _filter_form_context(tender_filter: PublicTenderFilter) -> dict:
    return {
        "filter": tender_filter,
        "values": tender_filter.form.data,
        "tree": [
            {"code": code, "label": label, "indent": "\u2003" * (level - 1)}
            for code, label, level in category_tree_choices(
                getattr(tender_filter.form.cleaned_data.get("category"), "code", None)
            )
        ],
        "regions": active_regions(),
        "kinds": TenderCase.Kind.choices,
        "quarters": [(str(q), _("Q%(quarter)s") % {"quarter": q}) for q in range(1, 5)],
        "sorts": [
            ("start", _("Expected tender start, earliest first")),
            ("-start", _("Expected tender start, latest first")),
            ("title", _("Title A–Z")),
            ("-value", _("Estimated annual value, largest first")),
            ("contract_end", _("Contract end, earliest first")),
        ],
    }


def _listing(request, *, region: Region | None = None, timeline: bool = False) -> dict:
    params = request.GET.copy()
    params.pop("page", None)
    if region is not None:
        params["region"] = region.code
    tender_filter = filter_public_tenders(params, default_tab=TAB_UPCOMING)
    tab = tender_filter.form.cleaned_data["tab"]
    context = _filter_form_context(tender_filter)
    tab_params = params.copy()
    if region is not None:
        tab_params.pop("region", None)
    context["tabs"] = [
        {
            "value": value,
            "label": label,
            "current": value == tab,
            "query": _query(tab_params, tab=value),
            "count": filter_public_tenders(
                _query_dict(params, tab=value), today=tender_filter.today
            ).qs.count(),
        }
        for value, label in TABS
    ]
    context["tab"] = tab
    context["tab_label"] = dict(TABS)[tab]
    # Feeds and files select what the page shows: this tab and these filters.
    context["file_query"] = _query(params, tab=tab)
    tenders = tender_filter.qs
    if timeline:
        context["timeline"] = _by_quarter(tenders)
        context["count"] = sum(len(q["rows"]) for q in context["timeline"])
        return context
    number = _page_number(request)
    paginator = Paginator(tenders, PAGE_SIZE)
    try:
        page = paginator.page(number)
    except EmptyPage as exc:
        raise Http404(_("There is no page %(number)s.") % {"number": number}) from exc
    context["page"] = page
    context["rows"] = [PublicRow(t, public_regions(t)) for t in page.object_list]
    context["previous_query"] = (
        _query(tab_params, page=str(page.previous_page_number())) if page.has_previous() else ""
    )
    context["next_query"] = (
        _query(tab_params, page=str(page.next_page_number())) if page.has_next() else ""
    )
    return context


def _query_dict(params: QueryDict, **changes) -> QueryDict:
    return QueryDict(_query(params, **changes))


def _by_quarter(tenders) -> list[dict]:
    groups: dict[tuple[int, int] | None, list[PublicRow]] = defaultdict(list)
    for tender in tenders.order_by("expected_tender_start", "reference"):
        groups[quarter_of(tender.expected_tender_start)].append(
            PublicRow(tender, public_regions(tender))
        )
    ordered = sorted((k for k in groups if k), key=lambda k: k)
    quarters = [
        {
            "id": f"q{year}-{quarter}",
            "label": _("Q%(quarter)s %(year)s") % {"quarter": quarter, "year": year},
            "rows": groups[(year, quarter)],
        }
        for year, quarter in ordered
    ]
    if None in groups:
        quarters.append({"id": "q-none", "label": _("No expected start yet"), "rows": groups[None]})
    return quarters


# Pages ---------------------------------------------------------------------------------------


def index(request):
    """The joint tenders in three tabs, with filters, search, sort and pages."""
    return _serve_page(request, "index", lambda r: ("public/index.html", _listing(r)))


def timeline(request):
    """Expected tender starts by quarter, for the same filters."""
    return _serve_page(
        request, "timeline", lambda r: ("public/timeline.html", _listing(r, timeline=True))
    )


def region(request, code: str):
    """One region's joint tenders: those it leads and those it joins."""

    def build(request):
        region = get_object_or_404(Region, code=code)
        context = _listing(request, region=region)
        context["region"] = region
        for row in context["rows"]:
            row.role = next((r.role for r in row.regions if r.region.pk == region.pk), "")
        return "public/region.html", context

    return _serve_page(request, "region", build, code)


def detail(request, reference: str):
    """One joint tender: description, category, milestones, regions, contact, change log."""

    def build(request):
        tender = public_tender(reference)
        if tender is None:
            raise Http404(
                _("No published joint tender has the reference %(reference)s.")
                % {"reference": reference}
            )
        tab = tab_of(tender)
        context = {
            "tender": tender,
            "row": PublicRow(tender, public_regions(tender)),
            "tab_label": dict(TABS).get(tab, tender.get_status_display()),
            "phase": phase_label(tender, tab),
            "tab": tab,
            "contact": public_contact(tender),
            # The alert sign-up starts from this case's category.
            "values": {"category": tender.category.code},
            "milestones": [
                (_("Expected tender start"), tender.expected_tender_start, True),
                (_("Publication"), tender.publication_date, False),
                (_("Award"), tender.award_date, False),
                (_("Contract start"), tender.contract_start, False),
                (_("Contract end"), tender.contract_end, False),
                (_("Extension options until"), tender.extension_until, False),
            ],
            "changes": public_change_log(tender),
        }
        return "public/detail.html", context

    return _serve_page(request, "detail", build, reference)
