"""Issue 16 §9 in a real browser: the fixes for valid HTML change nothing a visitor relies on.

The portal's filter form has no ``action`` attribute any more (``action=""`` is invalid
HTML): on the region page and the timeline it must still submit to the page it is on.
The browser finds the site's icon through ``<link rel="icon">``, and ``/favicon.ico``
answers for clients that only ask there.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def public_plan(regions):
    from tests.public.conftest import build_plan

    return build_plan(regions)


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("path", ["/udbud/region/RM/", "/udbud/tidslinje/"])
def test_the_filter_form_submits_to_the_page_it_is_on(
    e2e_browser, live_server, public_plan, console_errors, width, path
):
    # given
    context = e2e_browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 844}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(path)

    # when
    search = page.get_by_role("search")
    search.locator("select[name=kind]").select_option(index=1)
    search.locator("button[type=submit]").click()

    # then: the same page, with the filter in its address
    expect(page).to_have_url(re.compile(rf"{re.escape(path)}\?.*kind="))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


def test_the_browser_gets_the_sites_icon(e2e_page, public_plan):
    # when
    e2e_page.goto("/udbud/")
    icon_href = e2e_page.locator("link[rel=icon]").get_attribute("href")
    icon = e2e_page.request.get(icon_href)
    fallback = e2e_page.request.get("/favicon.ico")

    # then
    assert icon_href.endswith(".svg")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert fallback.status == 200 and fallback.body() == icon.body()
