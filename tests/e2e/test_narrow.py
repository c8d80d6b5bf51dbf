"""Phones and narrow windows (issue 16 §3): no page scrolls sideways at 390 px or 1,366 px.

Every GET page of the permission matrix (tests/rfi/test_permission_matrix.py) that a
persona may open is loaded in a real browser at 390 px and measured there, then the
window is widened to 1,366 px and the page measured again (one load a page); the page
itself must never be wider than the window: wide tables scroll inside their own box, and the
navigation folds into a menu. API, admin, POST-only, redirect and download routes are
left out: they are not pages. At 1,366 px the "Log ud" button stays on one line. At 390
px every table's caption is in sight: it must not scroll away with its table.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, captions_cut_off
from tests.rfi.test_permission_matrix import ADMIN_NAMESPACE, ROUTES, Access, expected

pytestmark = pytest.mark.e2e

WIDTHS = (390, 1366)

NOT_PAGES = {Access.API, Access.POST_ONLY, Access.REDIRECT, Access.ADMIN, Access.OPERATOR}
NOT_PAGES |= {access for access in Access if access.name.startswith("API_")}
# Downloads, feeds, machine-readable data and third-party pages: no layout to check.
DOWNLOADS = {
    "healthz",
    "favicon",
    "schema",
    "api-docs",
    "tenders:export",
    "tenders:status_report_export",
    "tenders:savings_report_export",
    "spend:export",
    "spend:batch_file",
    "spend:batch_status",
    "spend:batch_errors",
    "suppliers:document_download",
    "spend:upload_template",
    "kpi:export",
    "public:feed",
    "public:calendar",
    "public:csv",
    "public:xlsx",
    "public:ocds",
    "public:ocds_extension",
    "public:ocds_extension_codelist",
    "public:ocds_extension_copy",
    "public:ocds_extension_copy_codelist",
}

# The matrix's persona names, and the role each is given here (None: not signed in).
PERSONAS = {
    "anonymous": None,
    "officer_rm": "officer",
    "chief": "chief",
    "ufo_member": "ufo",
    "secretariat": "secretariat",
}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # The ledger-upload pages' fixture stores a file: never in the project's media/.
    settings.MEDIA_ROOT = tmp_path / "media"


def _user(persona: str, regions):
    from django.contrib.auth import get_user_model

    from rfi.models import Membership

    make = get_user_model().objects.create_user
    if persona == "secretariat":
        return make(username="e2e-narrow-secretariat", password=PASSWORD, is_staff=True)
    user = make(username=f"e2e-narrow-{persona}", password=PASSWORD)
    Membership.objects.create(user=user, region=regions["RM"], role=PERSONAS[persona])
    return user


def _pages(persona: str, regions) -> list[str]:
    """The URL of every page the matrix lets ``persona`` open (200 on GET)."""
    urls = []
    for name, route in ROUTES.items():
        if name == ADMIN_NAMESPACE or name in DOWNLOADS or route.access in NOT_PAGES:
            continue
        url = reverse(name, kwargs=route.kwargs({"regions": regions}))
        if expected(route.access, persona, url).statuses == frozenset({200}):
            urls.append(url)
    return urls


# The outermost elements reaching past the window's right edge, to name in a failure.
OFFENDERS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(e => { for (let a = e.parentElement; a; a = a.parentElement) {
                   if (getComputedStyle(a).overflowX !== 'visible') return false; }
                 return true; })
  .filter(e => !(e.parentElement
                 && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 4)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).trim()
                                                     .replace(/ +/g, '.') : '')
             + '[' + (e.textContent || '').trim().slice(0, 30) + ']')"""
# A few pages photographed at phone width, to look at: /tmp/phone-<persona>-<page>.png.
SCREENSHOTS = {"/", "/fup/", "/forbrug/", "/kpi/", "/udbud/", "/kontrakter/"}


# After a resize: two animation frames, so layout and resize observers (the KPI charts)
# have caught up with the new width before it is measured.
SETTLED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def _open(page, url: str, persona: str) -> bool:
    """Load ``url`` at the narrowest width; False when it is not an HTML page."""
    try:
        response = page.goto(url)
    except PlaywrightError as error:
        if "Download is starting" in str(error):
            return False  # a file, not a page (a download route not yet in DOWNLOADS)
        raise
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    if not response.headers.get("content-type", "").startswith("text/html"):
        return False
    if url in SCREENSHOTS:
        name = url.strip("/").replace("/", "-") or "home"
        page.screenshot(path=f"/tmp/phone-{persona}-{name}.png", full_page=True)
    return True


def _too_wide(page, url: str, width: int) -> str | None:
    """The page at ``width`` (the window resized to it), when it is wider than the window."""
    if page.viewport_size["width"] != width:
        page.set_viewport_size({"width": width, "height": 800})
        page.evaluate(SETTLED)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert inner_width == width, (url, inner_width, width)
    if scroll_width <= inner_width:
        return None
    return (
        f"{width} px {url}: {scroll_width} > {inner_width} ({', '.join(page.evaluate(OFFENDERS))})"
    )


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_no_page_scrolls_sideways_at_phone_or_laptop_width(
    e2e_browser, live_server, transactional_db, regions, category_33, log_in, persona
):
    # given
    user = _user(persona, regions) if PERSONAS[persona] else None
    urls = _pages(persona, regions)
    assert len(urls) >= 5, urls
    # One window, logged in once: each page is loaded at the phone width, then the window
    # is widened to the laptop width and the same page measured again (one load a page).
    context = e2e_browser.new_context(
        base_url=live_server.url, viewport={"width": min(WIDTHS), "height": 800}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    if user is not None:
        log_in(page, user.get_username())
        expect(page).not_to_have_url(re.compile(r"/login/"))

    # when
    too_wide, cut_off = [], []
    for url in urls:
        if page.viewport_size["width"] != min(WIDTHS):
            page.set_viewport_size({"width": min(WIDTHS), "height": 800})
        if not _open(page, url, persona):
            continue
        for width in sorted(WIDTHS):
            if problem := _too_wide(page, url, width):
                too_wide.append(problem)
            if width < 768 and (captions := captions_cut_off(page)):
                cut_off.append(f"{url}: {'; '.join(captions)}")
    context.close()

    # then
    assert not too_wide, "pages wider than the window:\n" + "\n".join(too_wide)
    assert not cut_off, "table captions out of sight on a phone:\n" + "\n".join(cut_off)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_menu_folds_on_a_phone_and_log_out_stays_on_one_line(
    e2e_browser, live_server, transactional_db, regions, log_in, width
):
    # given
    user = _user("secretariat", regions)
    context = e2e_browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 800}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, user.get_username())

    # when
    page.goto("/fup/")

    # then
    navigation = page.get_by_role("navigation", name="Hovednavigation")
    plan_link = navigation.get_by_role("link", name="Fælles udbudsplan")
    log_out = navigation.get_by_role("button", name="Log ud")
    if width < 768:
        expect(plan_link).to_be_hidden()
        navigation.get_by_text("Menu", exact=True).click()
        expect(plan_link).to_be_visible()
        plan_link.click()
        expect(page).to_have_url(f"{live_server.url}/fup/")
    else:
        expect(navigation.get_by_text("Menu", exact=True)).to_be_hidden()
        expect(plan_link).to_be_visible()
        expect(log_out).to_be_visible()
        box = log_out.bounding_box()
        line_height = log_out.evaluate("b => parseFloat(getComputedStyle(b).lineHeight)")
        padding = log_out.evaluate(
            "b => parseFloat(getComputedStyle(b).paddingTop)"
            " + parseFloat(getComputedStyle(b).paddingBottom)"
            " + parseFloat(getComputedStyle(b).borderTopWidth)"
            " + parseFloat(getComputedStyle(b).borderBottomWidth)"
        )
        assert box["height"] < 2 * line_height + padding - 1, (box, line_height, padding)
    context.close()


# The longest title the forms take, in one unbroken word (a URL, a file name, a string of
# product codes): on a phone it must wrap, not push the page sideways.
LONG_WORD = "Kateterfikseringsplaster" * 12 + "x" * 12  # 300 characters


def test_a_title_of_one_long_word_wraps_on_a_phone(
    e2e_browser, live_server, transactional_db, regions, log_in
):
    # given: a public joint tender and a UFO candidate area, each titled with one long word
    from tenders.models import CandidateArea
    from tests.public.conftest import build_plan

    plan = build_plan(regions)
    tender = plan["sutures"]
    tender.title = LONG_WORD
    tender.save(update_fields=["title"])
    user = _user("secretariat", regions)
    candidate = CandidateArea.objects.create(
        title=LONG_WORD,
        category=tender.category,
        plan_year=2027,
        proposer_region=regions["RM"],
        proposed_by=user,
    )
    assert len(LONG_WORD) == CandidateArea._meta.get_field("title").max_length

    context = e2e_browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 800}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, user.get_username())
    expect(page).not_to_have_url(re.compile(r"/login/"))

    # when / then: every page showing the title fits the window
    too_wide = []
    for url in (
        f"/udbud/{tender.reference}/",
        f"/fup/sag/{tender.reference}/",
        f"/fup/ufo/{candidate.pk}/",
        f"/fup/ufo/{candidate.pk}/beslut/",
    ):
        assert _open(page, url, "secretariat"), url
        if problem := _too_wide(page, url, 390):
            too_wide.append(problem)
        expect(page.get_by_role("heading", level=1)).to_contain_text(LONG_WORD[:40])
    context.close()
    assert not too_wide, "pages wider than the window:\n" + "\n".join(too_wide)
