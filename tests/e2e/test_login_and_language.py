"""The site in a real browser: Danish login, language switch, keyboard access, htmx search.

Assertions are on visible text and roles, never on pixels; screenshots are kept in
test-artifacts/e2e/ for people to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def assert_no_csp_violations(console_errors: list[str]) -> None:
    violations = [error for error in console_errors if "Content Security Policy" in error]
    assert not violations, f"CSP violations in the browser console: {violations}"


def screenshot(page, artifacts_dir, name: str) -> None:
    path = artifacts_dir / name
    page.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 0, f"no screenshot written to {path}"


def test_login_then_my_region_and_roles(e2e_page, officer, log_in, artifacts_dir, console_errors):
    page = e2e_page
    log_in(page, officer.username)

    nav = page.get_by_role("navigation", name="Hovednavigation")
    expect(nav.get_by_role("button", name="Log ud")).to_be_visible()
    nav.get_by_role("link", name=officer.username).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Min region og mine roller")
    roles = page.get_by_role("table", name="Dine roller")
    expect(roles.get_by_role("cell", name="Region Midtjylland", exact=True)).to_be_visible()
    expect(roles.get_by_role("cell", name="Indkøbskonsulent", exact=True)).to_be_visible()
    screenshot(page, artifacts_dir, "login.png")
    assert_no_csp_violations(console_errors)


def test_language_switch_danish_english_danish(e2e_page, regions, artifacts_dir, console_errors):
    page = e2e_page
    html = page.locator("html")
    heading = page.get_by_role("heading", level=1)

    page.goto("/")
    expect(html).to_have_attribute("lang", "da")
    expect(heading).to_have_text("Regionernes Fælles Indkøb")
    expect(page.get_by_role("heading", name="Deltagende regioner")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(heading).to_have_text("Joint Regional Procurement")
    expect(page.get_by_role("heading", name="Participating regions")).to_be_visible()
    screenshot(page, artifacts_dir, "language-en.png")

    page.get_by_role("button", name="Dansk").click()
    expect(html).to_have_attribute("lang", "da")
    expect(heading).to_have_text("Regionernes Fælles Indkøb")
    expect(page.get_by_role("link", name="Log ind").first).to_be_visible()
    screenshot(page, artifacts_dir, "language-da.png")
    assert_no_csp_violations(console_errors)


def test_wrong_password_shows_danish_error(e2e_page, officer, log_in, console_errors):
    page = e2e_page
    log_in(page, officer.username, "forkert-adgangskode")

    expect(page.get_by_role("alert")).to_contain_text(
        "Indtast venligst korrekt brugernavn og adgangskode"
    )
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log ind")
    expect(page.get_by_label("Brugernavn")).to_have_value(officer.username)
    assert_no_csp_violations(console_errors)


def test_first_tab_focuses_skip_link(e2e_page, regions, console_errors):
    page = e2e_page
    page.goto("/")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Gå til indhold")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()

    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    assert_no_csp_violations(console_errors)


def test_cpv_search_swaps_results_with_htmx(e2e_page, officer, log_in, console_errors):
    from rfi.services import categories_load_cpv

    categories_load_cpv()
    page = e2e_page
    log_in(page, officer.username)
    page.get_by_role("navigation", name="Hovednavigation").get_by_role(
        "link", name="Kategorier"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kategorier (CPV)")
    # A full page load would drop this marker; an htmx swap keeps it.
    page.evaluate("window.rfiSamePage = true")

    search = page.get_by_label("Søg på kode eller dansk eller engelsk betegnelse")
    with page.expect_response(
        lambda r: "/kategorier/" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        search.press_sequentially("rengøring")

    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="Rengøring", exact=True))
    expect(row).to_contain_text("90910000-9")
    expect(page).to_have_url(re.compile(r"/kategorier/\?q=reng"))
    assert page.evaluate("window.rfiSamePage") is True, "the search reloaded the whole page"
    assert_no_csp_violations(console_errors)
