"""The contract registry in a real browser: an officer registers a contract and finds it listed.

The form is filled by its Danish labels, as a procurement officer sees it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_tender_plan import assert_no_csp_violations, htmx_settled

pytestmark = pytest.mark.e2e


@pytest.fixture
def catheters(regions):
    from rfi.models import Category

    division = Category.objects.create(
        code="33000000", check_digit="0", label_da="Medicinsk udstyr", label_en="Medical", level=1
    )
    return Category.objects.create(
        code="33141200",
        check_digit="2",
        label_da="Katetre",
        label_en="Catheters",
        level=5,
        parent=division,
    )


def test_an_officer_registers_a_contract_and_sees_it_in_the_list(
    e2e_page, officer, catheters, log_in, artifacts_dir, console_errors
):
    page = e2e_page
    main = page.get_by_role("main")

    # given: an officer of Region Midtjylland on the registry
    log_in(page, officer.username)
    page.get_by_role("navigation", name="Hovednavigation").get_by_role(
        "link", name="Kontrakter"
    ).click()
    main.get_by_role("link", name="Registrér en kontrakt").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrér en kontrakt")

    # when: the form is filled in and sent
    main.get_by_label("Titel").fill("Urologiske katetre")
    with htmx_settled(page):
        main.get_by_label("CPV-kategori").press_sequentially("33141200-2")
    expect(main.locator("#category-label")).to_contain_text("33141200-2 Katetre")
    main.get_by_label("Leverandør-id (CVR-nummer)").fill("28746153")
    main.get_by_label("Leverandørnavn").fill("Sønderjysk Medico ApS")
    main.get_by_label(re.compile(r"^Start")).fill("2025-02-01")
    main.get_by_label(re.compile(r"^Slut")).fill("2028-01-31")
    main.get_by_label("Årlig værdi").fill("1250000")
    page.screenshot(path=str(artifacts_dir / "contract-form.png"), full_page=True)
    main.get_by_role("button", name="Registrér kontrakten").click()

    # then: the contract's page says so, and the list shows it with supplier and end
    expect(page.get_by_role("status")).to_contain_text("Urologiske katetre” er registreret")
    expect(main.get_by_test_id("contract-facts")).to_contain_text("Sønderjysk Medico ApS")
    page.get_by_role("navigation", name="Kontraktregister").get_by_role(
        "link", name="Kontrakter", exact=True
    ).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Urologiske katetre"))
    expect(row).to_contain_text("RM")
    expect(row).to_contain_text("Sønderjysk Medico ApS")
    expect(row).to_contain_text("31-01-2028")
    expect(main.get_by_test_id("contract-count")).to_have_text("1 kontrakt")
    page.screenshot(path=str(artifacts_dir / "contract-list.png"), full_page=True)
    assert_no_csp_violations(console_errors)
