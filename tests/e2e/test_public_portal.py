"""The public supplier portal in a real browser: filter, open a tender, English, no JavaScript.

A supplier needs no account. Assertions use roles, visible text and the URL; form
controls are found by their ``name`` (the URL contract), so a later Danish
translation of the labels does not break the tests.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_login_and_language import assert_no_csp_violations, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def public_plan(regions):
    from tests.public.conftest import build_plan

    return build_plan(regions)


def test_supplier_filters_by_category_and_region_opens_a_tender_and_reads_it_in_english(
    e2e_page, public_plan, artifacts_dir, console_errors
):
    page = e2e_page
    page.goto("/udbud/")
    expect(page.locator("html")).to_have_attribute("lang", "da")
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name="Printere via SKI")).to_be_visible()

    search = page.get_by_role("search")
    search.locator("select[name=category]").select_option("33100000")
    search.locator("select[name=region]").select_option("RSD")
    search.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"category=33100000"))
    expect(page).to_have_url(re.compile(r"region=RSD"))
    expect(table.get_by_role("link", name="Sutur og hæftemateriale")).to_be_visible()
    expect(table.get_by_role("link", name="Printere via SKI")).to_have_count(0)
    # The filter state survives the round trip, so the link can be shared.
    expect(search.locator("select[name=region]")).to_have_value("RSD")
    screenshot(page, artifacts_dir, "public-filtered.png")

    table.get_by_role("link", name="Sutur og hæftemateriale").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sutur og hæftemateriale")
    expect(page.get_by_text("33141000-0").first).to_be_visible()
    regions = page.get_by_role("table").nth(1)
    expect(regions.get_by_role("link", name="Region Midtjylland")).to_be_visible()
    expect(regions.get_by_role("link", name="Region Nordjylland")).to_have_count(0)

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sutur og hæftemateriale")
    expect(regions.get_by_role("link", name="Central Denmark Region")).to_be_visible()
    expect(page.get_by_role("heading", name="Milestones")).to_be_visible()
    screenshot(page, artifacts_dir, "public-detail-en.png")
    assert_no_csp_violations(console_errors)


def test_the_portal_is_usable_without_javascript(
    e2e_browser, live_server, public_plan, artifacts_dir
):
    context = e2e_browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/udbud/")
        tabs = page.get_by_role("navigation", name=re.compile("phase|fase", re.I))
        tabs.get_by_role("link", name=re.compile(r"\(2\)")).nth(1).click()
        expect(page).to_have_url(re.compile(r"tab=current"))
        table = page.get_by_role("table")
        expect(table.get_by_role("link", name="Kontorartikler")).to_be_visible()

        search = page.get_by_role("search")
        search.locator("select[name=lead_region]").select_option("RSD")
        search.locator("button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"lead_region=RSD"))
        expect(page).to_have_url(re.compile(r"tab=current"))
        expect(table.get_by_role("link", name="Undersøgelseshandsker")).to_be_visible()
        expect(table.get_by_role("link", name="Kontorartikler")).to_have_count(0)

        table.get_by_role("link", name="Undersøgelseshandsker").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Undersøgelseshandsker")
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("link", name="Region of Southern Denmark").first).to_be_visible()

        page.goto("/udbud/tidslinje/")
        expect(page.get_by_role("heading", name="Q2 2027")).to_be_visible()
        screenshot(page, artifacts_dir, "public-timeline-nojs.png")
    finally:
        context.close()


def test_keyboard_user_skips_to_the_listing(e2e_page, public_plan, console_errors):
    page = e2e_page
    page.goto("/udbud/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Gå til indhold")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert_no_csp_violations(console_errors)
