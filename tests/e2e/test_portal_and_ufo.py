"""The supplier portal and UFO's scoring form in a browser at 1,366 px and 390 px (issue 16 §6, §7).

The portal's three tabs sit in one row at both widths, every page shows the alert
sign-up and the open-data box, the detail page names the lead region's procurement
contact, and the UFO scoring form shows what each score means. No page scrolls sideways.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_login_and_language import assert_no_csp_violations, screenshot

pytestmark = pytest.mark.e2e

WIDTHS = (1366, 390)


@pytest.fixture
def public_plan(regions):
    from tests.public.conftest import build_plan

    return build_plan(regions)


def _page(e2e_browser, live_server, width: int):
    context = e2e_browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(30_000)  # two cores shared with other test runs
    return context, context.new_page()


def _fits(page) -> None:
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (scroll_width, inner_width)


def _tab_tops(page) -> list[float]:
    tabs = page.get_by_role("navigation", name="Udbudsfase").get_by_role("link")
    expect(tabs).to_have_count(3)
    return [tabs.nth(i).bounding_box()["y"] for i in range(3)]


@pytest.mark.parametrize("width", WIDTHS)
def test_public_list_tabs_in_one_row_subscribe_link_and_open_data(
    e2e_browser, live_server, public_plan, artifacts_dir, width
):
    context, page = _page(e2e_browser, live_server, width)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto("/udbud/")

    # the three tabs share one top offset: one clean row
    tops = _tab_tops(page)
    assert max(tops) - min(tops) < 1, tops
    # the alert sign-up sits in the filter box, visible without opening anything
    search = page.get_by_role("search")
    subscribe = search.get_by_role("link", name="Abonnér på nye udbud")
    expect(subscribe).to_be_visible()
    # the open-data box with its five formats
    box = page.get_by_test_id("open-data")
    expect(box.get_by_role("heading", name="Åbne data")).to_be_visible()
    for name in ("RSS", "iCal", "CSV (dansk Excel)", "Excel (xlsx)", "OCDS"):
        expect(box.get_by_role("link", name=re.compile(re.escape(name))).first).to_be_visible()
    _fits(page)
    screenshot(page, artifacts_dir, f"public-list-{width}.png")

    subscribe.click()
    expect(page).to_have_url(re.compile(r"/udbud/abonnement/"))
    assert_no_csp_violations(errors)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_public_detail_names_the_contact_and_the_phase_once(
    e2e_browser, live_server, public_plan, artifacts_dir, width
):
    context, page = _page(e2e_browser, live_server, width)

    page.goto("/udbud/FUP-2026-101/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Sutur og hæftemateriale")
    phase = page.locator("dt", has_text="Fase").locator("xpath=following-sibling::dd[1]")
    expect(phase).to_have_text("Kommende")
    contact = page.get_by_test_id("procurement-contact")
    expect(contact).to_be_visible()
    expect(contact.get_by_role("link", name="udbud@rm.dk")).to_have_attribute(
        "href", "mailto:udbud@rm.dk"
    )
    expect(page.get_by_role("link", name="Abonnér på nye udbud")).to_be_visible()
    expect(
        page.get_by_test_id("open-data").get_by_role("link", name=re.compile("OCDS"))
    ).to_be_visible()
    _fits(page)
    screenshot(page, artifacts_dir, f"public-detail-{width}.png")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_ufo_member_finds_ufo_in_the_menu_and_scores_with_the_rubric(
    e2e_browser, live_server, regions, log_in, artifacts_dir, width
):
    from django.contrib.auth import get_user_model

    from rfi.models import Category, Membership
    from tenders.models import CandidateArea
    from tenders.reference import plan_reference_load

    plan_reference_load()
    category = Category.objects.create(
        code="33141000",
        check_digit="0",
        level=4,
        label_da="Engangsartikler",
        label_en="Disposables",
    )
    candidate = CandidateArea.objects.create(title="Sårpleje", category=category, plan_year=2027)
    user = get_user_model().objects.create_user(username="e2e-ufo", password=PASSWORD)
    Membership.objects.create(user=user, region=regions["RM"], role=Membership.Role.UFO)
    context, page = _page(e2e_browser, live_server, width)
    log_in(page, "e2e-ufo")
    expect(page).not_to_have_url(re.compile(r"/login/"))

    # the UFO entry is in the main menu (folded behind "Menu" on a phone)
    navigation = page.get_by_role("navigation", name="Hovednavigation")
    if width < 768:
        navigation.get_by_text("Menu", exact=True).click()
    navigation.get_by_role("link", name="UFO", exact=True).click()
    expect(page).to_have_url(re.compile(r"/fup/ufo/$"))
    log_out = navigation.get_by_role("button", name="Log ud")
    if width >= 1280:
        box = log_out.bounding_box()
        line = log_out.evaluate("b => parseFloat(getComputedStyle(b).lineHeight)")
        assert box["height"] < 2 * line, box

    page.goto(f"/fup/ufo/{candidate.pk}/score/")
    volume = page.get_by_test_id("rubric-volume-savings")
    expect(volume.locator(".rubric-text")).to_have_count(5)
    one = volume.get_by_role("radio", name=re.compile(r"1\s+Lille samlet volumen"))
    expect(one).to_have_count(1)
    expect(one).to_be_visible()
    expect(volume.get_by_text("Meget stor volumen i alle regioner", exact=False)).to_be_visible()
    _fits(page)
    screenshot(page, artifacts_dir, f"ufo-score-rubric-{width}.png")

    for code in ("volume-savings", "tender-history", "complexity", "market-analysis"):
        page.get_by_test_id(f"rubric-{code}").locator("input[value='4']").check()
    page.get_by_role("button", name="Gem scoring").click()
    expect(page).to_have_url(re.compile(rf"/fup/ufo/{candidate.pk}/$"))
    context.close()
