"""The joint tender plan in a real browser: an officer logs a case, another region opts out.

Forms are filled by their Danish labels, as a procurement officer sees them.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.e2e

JUSTIFICATION = (
    "Region Syddanmark har særlige kliniske krav til sårpleje på brandsårsafsnittet, "
    "som den fælles kravspecifikation ikke dækker."
)


@pytest.fixture
def plan_reference(regions):
    """The CPV code the case is logged under, and the secretariat's opt-out reasons."""
    from rfi.models import Category
    from tenders.models import OptOutReason

    division = Category.objects.create(
        code="33000000", check_digit="0", label_da="Medicinsk udstyr", label_en="Medical", level=1
    )
    Category.objects.create(
        code="33141000",
        check_digit="0",
        label_da="Medicinske forbrugsartikler",
        label_en="Medical consumables",
        level=4,
        parent=division,
    )
    OptOutReason.objects.create(
        code="e2e-existing", label_da="Eksisterende kontrakt", asks_contract_end=True, order=1
    )
    OptOutReason.objects.create(code="e2e-clinical", label_da="Andre kliniske behov", order=2)


@pytest.fixture
def officer_rsd(regions):
    """A procurement officer in Region Syddanmark (RSD)."""
    from django.contrib.auth import get_user_model

    from rfi.models import Membership

    user = get_user_model().objects.create_user(username="e2e-rsd-officer", password=PASSWORD)
    Membership.objects.create(user=user, region=regions["RSD"], role=Membership.Role.OFFICER)
    return user


def assert_no_csp_violations(console_errors: list[str]) -> None:
    violations = [error for error in console_errors if "Content Security Policy" in error]
    assert not violations, f"CSP violations in the browser console: {violations}"


@contextmanager
def htmx_settled(page):
    """Wait until htmx has swapped in and set up the answer of the action inside the block."""
    page.evaluate(
        """() => { window.rfiSettled = new Promise((resolve) => document.body.addEventListener(
            "htmx:afterSettle", () => resolve(true), { once: true })); }"""
    )
    yield
    page.evaluate("() => window.rfiSettled")


def test_an_officer_logs_a_case_and_another_region_opts_out_with_a_justification(
    e2e_page, officer, officer_rsd, plan_reference, log_in, artifacts_dir, console_errors
):
    page = e2e_page
    main = page.get_by_role("main")

    # An officer of Region Midtjylland logs a new case through the form.
    log_in(page, officer.username)
    page.get_by_role("navigation", name="Hovednavigation").get_by_role(
        "link", name="Fælles udbudsplan"
    ).click()
    main.get_by_role("link", name="Ny udbudssag").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ny udbudssag")
    main.get_by_label("Titel").fill("Sårplejeprodukter")
    main.get_by_label("Beskrivelse").fill("Fælles rammeaftale om sårpleje.")
    with htmx_settled(page):
        main.get_by_label("CPV-kategori").press_sequentially("33141000")
    expect(main.locator("#category-label")).to_contain_text(
        "33141000-0 Medicinske forbrugsartikler"
    )
    main.get_by_label("Område").select_option(label="Medico og anskaffelser")
    main.get_by_label("Type").select_option(label="Rammeaftale")
    main.get_by_label("Har optioner for senere tilslutning").check()
    expect(main.get_by_label("Tovholder")).to_have_value(str(officer_region(officer)))
    main.get_by_label("Forventet udbudsstart").fill("2027-02-01")
    main.get_by_label("Beslutningsfrist").fill("2026-12-31")
    main.get_by_label("Forventet årlig kontraktsum").fill("12500000")
    main.get_by_role("button", name="Opret udbudssag").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Sårplejeprodukter")
    expect(page.get_by_role("status")).to_contain_text("er oprettet; alle regioner afventer")
    reference = re.search(r"/fup/sag/([^/]+)/$", page.url).group(1)

    # The case is on the overview, every region still pending.
    page.get_by_role("navigation", name="Fælles udbudsplan").get_by_role(
        "link", name="Oversigt"
    ).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=reference))
    expect(row).to_contain_text("Sårplejeprodukter")
    expect(row).to_contain_text("Region Midtjylland")
    expect(row).to_contain_text("RSD ?")
    page.screenshot(path=str(artifacts_dir / "tender-plan-overview.png"), full_page=True)
    page.get_by_role("navigation", name="Hovednavigation").get_by_role(
        "button", name="Log ud"
    ).click()

    # An officer of Region Syddanmark opts out: follow or explain.
    log_in(page, officer_rsd.username)
    page.goto(f"/fup/sag/{reference}/")
    main.get_by_role("link", name="Angiv deltagelse (RSD)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deltagelse for Region Syddanmark")
    with htmx_settled(page):
        main.get_by_label("Fravælger (følg eller forklar)").check()
    with htmx_settled(page):
        main.get_by_label("Årsag til fravalg").select_option(label="Andre kliniske behov")
    main.get_by_label("Begrundelse").fill(JUSTIFICATION)
    page.screenshot(path=str(artifacts_dir / "tender-plan-participation.png"), full_page=True)
    main.get_by_role("button", name="Gem beslutningen").click()

    # The case page shows the opt-out with its reason, justification and who decided.
    expect(page.get_by_role("status")).to_contain_text("Deltagelsen for Region Syddanmark er gemt")
    rsd_row = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="Region Syddanmark")
    )
    expect(rsd_row).to_contain_text("Fravalgt")
    expect(rsd_row).to_contain_text("Andre kliniske behov")
    expect(rsd_row).to_contain_text(JUSTIFICATION)
    expect(rsd_row).to_contain_text(officer_rsd.username)
    page.screenshot(path=str(artifacts_dir / "tender-plan-opt-out.png"), full_page=True)
    assert (artifacts_dir / "tender-plan-opt-out.png").stat().st_size > 0
    assert_no_csp_violations(console_errors)


def officer_region(user) -> int:
    return user.memberships.get().region_id
