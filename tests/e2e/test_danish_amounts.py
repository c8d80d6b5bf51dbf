"""Amounts as Danes type them (issue 16 §2): "1.200.000,50" is saved and shown back as typed.

At a desktop's 1,366 px and a phone's 390 px; at 390 px the form never scrolls sideways.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.test_contracts import catheters  # noqa: F401 – fixture

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1366, 390])
def test_an_amount_typed_the_danish_way_is_saved_and_shown_back(
    e2e_browser,
    live_server,
    officer,
    catheters,  # noqa: F811 – the fixture imported above
    log_in,
    artifacts_dir,
    width,
):
    from suppliers.models import Contract

    context = e2e_browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    main = page.get_by_role("main")

    # given: an officer on the form that registers a contract
    log_in(page, officer.username)
    page.goto("/kontrakter/ny/")

    # when: the annual value is typed with thousands dots and a decimal comma
    main.get_by_label("Titel").fill("Urologiske katetre")
    main.get_by_label("CPV-kategori").fill("33141200-2")
    main.get_by_label("Leverandør-id (CVR-nummer)").fill("28746153")
    main.get_by_label("Leverandørnavn").fill("Sønderjysk Medico ApS")
    main.get_by_label(re.compile(r"^Start")).fill("2025-02-01")
    main.get_by_label(re.compile(r"^Slut")).fill("2028-01-31")
    main.get_by_label("Årlig værdi").fill("1.200.000,50")
    if width == 390:
        sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert sizes[0] <= sizes[1], sizes
    main.get_by_role("button", name="Registrér kontrakten").click()
    expect(page.get_by_role("status")).to_contain_text("er registreret")

    # then: it is saved to the øre and the edit form shows it back the Danish way
    contract = Contract.objects.get(title="Urologiske katetre")
    assert contract.annual_value == Decimal("1200000.50")
    page.goto(f"/kontrakter/{contract.pk}/rediger/")
    expect(main.get_by_label("Årlig værdi")).to_have_value("1.200.000,50")
    if width == 390:
        sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert sizes[0] <= sizes[1], sizes
    page.screenshot(path=str(artifacts_dir / f"danish-amount-{width}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_the_upload_page_explains_the_columns_without_scrolling_sideways(
    e2e_browser, live_server, officer, log_in, width
):
    context = e2e_browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, officer.username)

    page.goto("/forbrug/indlaes/")

    columns = page.get_by_test_id("upload-columns")
    expect(columns.get_by_role("rowheader", name="Bogføringsdato")).to_be_visible()
    expect(columns.locator('tr[data-column="category_code"]')).to_contain_text("valgfri")
    expect(columns.get_by_test_id("template-xlsx")).to_be_visible()
    sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], sizes
    context.close()
