"""Savings in a real browser (issue 14 §1, §2): an officer adjusts the expected saving of
their region and records the awarded one; the report pages at laptop and phone width."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import captions_cut_off
from tests.e2e.test_tender_plan import assert_no_csp_violations

pytestmark = pytest.mark.e2e

WIDTHS = (1366, 390)
REPORTS = ("kind-area", "origin", "years", "price-reduction")


@pytest.fixture
def awarded_case(regions, officer):
    """A joint case awarded this year, with RM's expected saving from the chiefs' approval."""
    from django.utils import timezone

    from rfi.models import Category
    from tenders import services
    from tenders.models import SavingsMethod, SavingsRecord, TenderCase
    from tenders.reference import plan_reference_load

    plan_reference_load()
    category = Category.objects.create(
        code="33141200", check_digit="2", label_da="Katetre", label_en="Catheters", level=5
    )
    today = timezone.localdate()
    tender = TenderCase.objects.create(
        reference="FUP-2026-901",
        title="Katetre",
        category=category,
        area=TenderCase.Area.GOODS_SERVICES,
        kind=TenderCase.Kind.FRAMEWORK,
        lead_region=regions["RM"],
        status=TenderCase.Status.IN_CONTRACT,
        award_date=dt.date(today.year, 1, 15),
        contract_start=dt.date(today.year, 3, 1),
        contract_end=dt.date(today.year + 3, 2, 28),
    )
    SavingsRecord.objects.create(
        tender=tender,
        region=regions["RM"],
        stage=SavingsRecord.Stage.EXPECTED,
        baseline_annual_cost=Decimal("1000000"),
        new_annual_cost=Decimal("880000"),
        method=SavingsMethod.objects.get(code="estimate"),
    )
    # RSD's own contract, for the reports' regional side
    services.savings_record_regional(
        actor=_secretariat(),
        region=regions["RSD"],
        category=category,
        kind=TenderCase.Kind.ONE_OFF,
        baseline_annual_cost=Decimal("200000"),
        new_annual_cost=Decimal("150000"),
        method=SavingsMethod.objects.get(code="market-price"),
        contract_start=dt.date(today.year - 1, 7, 1),
    )
    return tender


def _secretariat():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get_or_create(
        username="e2e-secretariat", defaults={"is_staff": True}
    )[0]


def _fits(page) -> None:
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{page.url}: {scroll_width} > {inner_width}"


@pytest.mark.parametrize("width", WIDTHS)
def test_an_officer_adjusts_the_expected_saving_and_records_the_awarded_one(
    e2e_page, officer, awarded_case, log_in, console_errors, width
):
    from tenders.models import SavingsRecord

    page = e2e_page
    page.set_viewport_size({"width": width, "height": 900})
    main = page.get_by_role("main")
    log_in(page, officer.username)

    # given: the case's savings page shows RM's expected saving (120.000 kr.)
    page.goto(f"/fup/sag/{awarded_case.reference}/besparelse/")
    records = main.get_by_test_id("savings-records")
    expect(records.locator("td[data-stage=expected]")).to_have_count(1)
    expect(records).to_contain_text("120.000 kr.")
    _fits(page)

    # when: they adjust the expected saving to 900.000 → 810.000 (90.000 kr.)
    form = main.locator("form[method=post]")
    form.locator("input[name=stage][value=expected]").check()
    form.locator("input[name=baseline_annual_cost]").fill("900.000")
    form.locator("input[name=new_annual_cost]").fill("810.000")
    form.locator("select[name=method]").select_option(label="Skøn")
    form.locator("button[type=submit]").click()

    # then: the expected figure changed
    expect(records).to_contain_text("90.000 kr.")

    # when: they record the awarded saving: 1.000.000 → 850.000
    form = main.locator("form[method=post]")
    form.locator("input[name=stage][value=awarded]").check()
    form.locator("input[name=baseline_annual_cost]").fill("1.000.000")
    form.locator("input[name=new_annual_cost]").fill("850.000")
    form.locator("select[name=method]").select_option(label="Tidligere kontraktpris")
    form.locator("button[type=submit]").click()

    # then: both stages stand side by side; the awarded one is 150.000 kr. (15,0 %), with
    # the case's contract period and the realisation method beside it
    expect(records.locator("td[data-stage=awarded]")).to_have_count(1)
    expect(records.locator("td[data-stage=expected]")).to_have_count(1)
    awarded_row = records.locator("tr", has=page.locator("td[data-stage=awarded]"))
    expect(awarded_row).to_contain_text("150.000 kr.")
    expect(awarded_row).to_contain_text("15,0 %")
    expect(main.get_by_test_id("realisation-method")).to_be_visible()
    stages = dict(
        SavingsRecord.objects.filter(tender=awarded_case).values_list("stage", "new_annual_cost")
    )
    assert stages == {"expected": Decimal("810000.00"), "awarded": Decimal("850000.00")}
    _fits(page)

    # and: the overview counts the awarded saving only, the expected one beside it
    page.goto("/fup/besparelser/?by=region")
    rm_row = main.locator("tr", has_text="Region Midtjylland")
    expect(rm_row).to_contain_text("90.000 kr.")
    expect(rm_row).to_contain_text("150.000 kr.")
    _fits(page)
    assert_no_csp_violations(console_errors)


@pytest.fixture
def awarded_saving(awarded_case, officer):
    """The lead region's awarded saving on the case: 1.000.000 → 850.000 kr. a year."""
    from tenders import services
    from tenders.models import SavingsMethod

    return services.savings_record(
        tender=awarded_case,
        region=awarded_case.lead_region,
        actor=officer,
        baseline_annual_cost=Decimal("1000000"),
        new_annual_cost=Decimal("850000"),
        method=SavingsMethod.objects.get(code="same-volume"),
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_savings_reports_show_a_chart_a_table_and_download_as_excel(
    e2e_page, officer, awarded_case, awarded_saving, log_in, console_errors, width
):
    from django.utils import timezone

    year = timezone.localdate().year
    page = e2e_page
    page.set_viewport_size({"width": width, "height": 900})
    main = page.get_by_role("main")
    log_in(page, officer.username)

    for slug in REPORTS:
        page.goto(f"/fup/besparelser/rapport/{slug}/?year={year}")
        expect(main.locator("canvas[data-kpi-chart=report]")).to_be_visible()
        table = main.get_by_test_id("report-table")
        expect(table).to_be_visible()
        _fits(page)
        if slug == "price-reduction":
            # one joint case: 150.000 of 1.000.000 = 15,0 %, the mean and weighted alike
            expect(table).to_contain_text("FUP-2026-901")
            expect(main.get_by_test_id("report-facts")).to_contain_text("15,0 %")
        if slug == "origin":
            expect(table).to_contain_text("150.000 kr.")  # joint, this year
            expect(table).to_contain_text("50.000 kr.")  # RSD's own contract
        with page.expect_download() as download:
            main.get_by_test_id("xlsx-export").click()
        assert download.value.suggested_filename.startswith(f"besparelser-{slug}-{year}")

    page.goto(f"/fup/besparelser/plan/?year={year}")
    expect(main.locator("canvas[data-kpi-chart=plan]")).to_be_visible()
    expect(main.get_by_test_id("plan-table")).to_contain_text("Region Midtjylland")
    _fits(page)
    assert_no_csp_violations(console_errors)


def test_the_savings_tables_captions_stay_readable_on_a_phone(
    e2e_page, officer, awarded_case, awarded_saving, log_in
):
    """At 390 px the wide tables scroll sideways in their box; their captions must not."""
    from django.utils import timezone

    year = timezone.localdate().year
    page = e2e_page
    page.set_viewport_size({"width": 390, "height": 900})
    main = page.get_by_role("main")
    log_in(page, officer.username)
    pages = [(f"/fup/besparelser/rapport/{slug}/?year={year}", "report-table") for slug in REPORTS]
    pages.append((f"/fup/besparelser/plan/?year={year}", "plan-table"))

    for url, test_id in pages:
        # given: a table wider than the phone, in its own scrolling box
        page.goto(url)
        table = main.get_by_test_id(test_id)
        expect(table).to_be_visible()
        assert table.evaluate("t => t.scrollWidth > t.parentElement.clientWidth"), url

        # then: the table is still named by its caption, and all of the caption is in sight
        name = table.evaluate(
            "t => (t.caption || document.getElementById(t.getAttribute('aria-labelledby')))"
            ".textContent.trim()"
        )
        assert name.endswith(str(year)), (url, name)
        expect(main.get_by_role("table", name=name)).to_be_visible()
        assert captions_cut_off(page) == [], url
