"""Each region's contract after a joint award, in a real browser: the lead region's officer
follows who has signed on the case page, signs RM's contract there, opens it and uploads
the signed PDF. Wide (1366 px) and narrow (390 px, no sideways scrolling)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_tender_plan import assert_no_csp_violations

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def awarded_case(regions, officer):
    from rfi.models import Category
    from suppliers import regional, services
    from tenders.models import Participation, TenderCase

    category = Category.objects.create(
        code="33141200", check_digit="2", label_da="Katetre", label_en="Catheters", level=5
    )
    tender = TenderCase.objects.create(
        reference="FUP-2025-201",
        title="Fælles katetre",
        category=category,
        area=TenderCase.Area.MEDICO_ACQUISITIONS,
        kind=TenderCase.Kind.FRAMEWORK,
        lead_region=regions["RM"],
        status=TenderCase.Status.IN_TENDER,
    )
    for code in ("RM", "RSD"):
        Participation.objects.create(
            tender=tender, region=regions[code], status=Participation.Status.FULL
        )
    supplier = services.supplier_upsert(identifier="31457826", name="Nordisk Medico A/S")
    regional.tender_award(
        tender=tender,
        actor=officer,
        supplier=supplier,
        award_date=dt.date(2026, 1, 10),
        contract_start=dt.date(2026, 2, 1),
        contract_end=dt.date(2028, 1, 31),
    )
    return tender


@pytest.mark.parametrize("width", [1366, 390])
def test_the_lead_follows_signing_signs_and_uploads_the_signed_contract(
    e2e_page, awarded_case, officer, log_in, tmp_path, artifacts_dir, console_errors, width
):
    page = e2e_page
    page.set_viewport_size({"width": width, "height": 900})
    main = page.get_by_role("main")
    log_in(page, officer.username)

    # given: the case page, where neither region has signed 30+ days after award
    page.goto(f"/fup/sag/{awarded_case.reference}/")
    section = main.get_by_test_id("regional-contracts")
    rm_row = section.get_by_test_id("regional-contract-RM")
    rsd_row = section.get_by_test_id("regional-contract-RSD")
    expect(rm_row.get_by_test_id("unsigned-flag")).to_be_visible()
    expect(rsd_row.get_by_test_id("unsigned-flag")).to_be_visible()
    # RM's officer signs RM's contract only
    expect(rsd_row.locator("form")).to_have_count(0)
    if width == 390:
        assert _fits(page), "the case page scrolls sideways at 390 px"

    # when: RM's officer records the signature from the case page
    rm_row.locator("#sign-RM").fill("2026-01-20")
    rm_row.locator("form button[type=submit]").click()

    # then: RM is signed (date and who), RSD still flagged
    rm_row = main.get_by_test_id("regional-contract-RM")
    expect(rm_row).to_contain_text("20-01-2026")
    expect(rm_row).to_contain_text(officer.username)
    expect(rm_row.get_by_test_id("unsigned-flag")).to_have_count(0)
    expect(
        main.get_by_test_id("regional-contract-RSD").get_by_test_id("unsigned-flag")
    ).to_be_visible()
    page.screenshot(path=str(artifacts_dir / f"regional-contracts-{width}.png"), full_page=True)

    # when: the officer opens RM's contract and uploads the signed PDF
    rm_row.get_by_role("link").first.click()
    expect(main.get_by_test_id("contract-signing")).to_contain_text("20-01-2026")
    signed = tmp_path / "underskrevet-kontrakt.pdf"
    signed.write_bytes(PDF)
    form = main.get_by_test_id("document-form")
    form.locator("input[type=file]").set_input_files(str(signed))
    form.locator("button[type=submit]").click()

    # then: the document is listed, and opening it downloads the same bytes
    documents = main.get_by_test_id("contract-documents")
    expect(documents).to_contain_text("underskrevet-kontrakt.pdf")
    link = documents.get_by_role("link", name=re.compile("underskrevet-kontrakt"))
    with page.expect_download() as download_info:
        link.click()
    assert download_info.value.suggested_filename == "underskrevet-kontrakt.pdf"
    if width == 390:
        assert _fits(page), "the contract page scrolls sideways at 390 px"
    page.screenshot(path=str(artifacts_dir / f"regional-contract-doc-{width}.png"), full_page=True)
    assert_no_csp_violations(console_errors)


def _fits(page) -> bool:
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    return scroll_width <= inner_width


@pytest.mark.parametrize("width", [1366, 390])
def test_a_refused_extension_option_keeps_the_dates_and_says_why(
    e2e_page, awarded_case, officer, log_in, artifacts_dir, console_errors, width
):
    from suppliers.models import Contract

    page = e2e_page
    page.set_viewport_size({"width": width, "height": 900})
    main = page.get_by_role("main")
    log_in(page, officer.username)
    contract = Contract.objects.get(tender=awarded_case, region__code="RM")
    page.goto(f"/kontrakter/{contract.pk}/")

    # when: the option typed would end before the contract does (31-01-2028)
    form = main.get_by_test_id("extension-form")
    form.locator("#id_extends_to").fill("2027-12-01")
    form.locator("#id_notice_deadline").fill("2027-06-15")
    form.locator("button[type=submit]").click()

    # then: the page says what is wrong at the field and at the top, both dates still there
    form = main.get_by_test_id("extension-form")
    expect(form.locator("#id_extends_to_error")).to_contain_text("31-01-2028")
    expect(form.locator("#id_extends_to")).to_have_value("2027-12-01")
    expect(form.locator("#id_notice_deadline")).to_have_value("2027-06-15")
    expect(page.locator(".message.error").first).to_contain_text("Ikke gemt")
    expect(main.get_by_test_id("contract-extensions")).not_to_contain_text("01-12-2027")
    if width == 390:
        assert _fits(page), "the refused form scrolls sideways at 390 px"
    page.screenshot(path=str(artifacts_dir / f"extension-refused-{width}.png"), full_page=True)

    # when: the officer corrects the end and sends it again
    form.locator("#id_extends_to").fill("2029-01-31")
    form.locator("button[type=submit]").click()

    # then: the option is listed, the form is empty again
    expect(main.get_by_test_id("contract-extensions")).to_contain_text("31-01-2029")
    expect(main.get_by_test_id("extension-form").locator("#id_extends_to")).to_have_value("")
    assert_no_csp_violations(console_errors)
