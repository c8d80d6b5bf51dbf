"""The KPI dashboard in a real browser: a chief reads the cards and charts, drills from
contract coverage to the off-contract suppliers, and downloads the dashboard as .xlsx.

The figures are computed for real: the hand-made world of tests/kpi/kpi_data.py (lines,
contracts, tenders) and one recompute, as the nightly job would.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_tender_plan import assert_no_csp_violations

pytestmark = pytest.mark.e2e


@pytest.fixture
def computed(transactional_db):
    from kpi.services import kpi_recompute
    from tests.kpi import kpi_data

    world = kpi_data.build()
    kpi_recompute()
    return world


@pytest.fixture
def chief(computed):
    from django.contrib.auth import get_user_model

    from rfi.models import Membership

    user = get_user_model().objects.create_user(username="e2e-rm-chief", password=PASSWORD)
    Membership.objects.create(user=user, region=computed.regions["RM"], role=Membership.Role.CHIEF)
    return user


def test_a_chief_reads_the_dashboard_drills_down_and_downloads_it(
    e2e_page, chief, log_in, artifacts_dir, console_errors
):
    page = e2e_page
    main = page.get_by_role("main")

    # given: the chief of Region Midtjylland, signed in
    log_in(page, chief.username)

    # when: they open the KPI dashboard for 2025
    page.goto("/kpi/?year=2025")

    # then: their region's cards, with value, target and status in words
    expect(main.get_by_test_id("kpi-scope")).to_contain_text("2025")
    goods = main.get_by_test_id("kpi-card-contract_coverage_goods")
    expect(goods.get_by_test_id("kpi-value")).to_contain_text("%")
    expect(goods.get_by_test_id("kpi-target")).to_contain_text("80,0 %")
    # RM's goods 2025: 2,300 of 2,450 at suppliers with a contract, 93.9 % ≥ 80 %
    expect(goods.get_by_test_id("kpi-value")).to_have_text("93,9 %")
    expect(goods.get_by_test_id("kpi-status")).to_contain_text("✓")
    # RM's extract has an ordering channel, RSD's not: RM's digital orders are a figure
    expect(
        main.get_by_test_id("kpi-card-digital_order_share_top100").get_by_test_id("kpi-value")
    ).to_be_visible()
    # and the charts are drawn (Chart.js on a canvas, from the page's JSON data)
    rendered = main.locator("canvas[data-rendered='true']")
    expect(rendered.first).to_be_visible()
    assert rendered.count() >= 10
    box = goods.locator("canvas").first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 50
    # the regions side by side, as a table and a bar chart
    comparison = main.get_by_test_id("kpi-comparison")
    expect(comparison.locator("table")).to_contain_text("RSD")
    expect(comparison.locator("canvas[data-rendered='true']")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir / "kpi-dashboard.png"), full_page=True)

    # when: they download the dashboard as .xlsx
    with page.expect_download() as download_info:
        main.get_by_test_id("kpi-export").click()
    download = download_info.value

    # then: a workbook with a sheet per view
    assert download.suggested_filename == "kpi-RM-2025.xlsx"
    from openpyxl import load_workbook

    with open(download.path(), "rb") as file:
        workbook = load_workbook(io.BytesIO(file.read()))
    # the region, its years and months, the regions side by side, the collaboration and
    # the outstanding decisions (a chief sees across regions)
    assert len(workbook.sheetnames) == 6
    assert "RM" in workbook.sheetnames[0] and "2025" in workbook.sheetnames[0]

    # when: they follow contract coverage to what it is made of
    goods.get_by_test_id("drill-contract_coverage_goods").first.click()

    # then: RM's off-contract spend for 2025, by supplier
    expect(page).to_have_url(
        re.compile(r"/forbrug/uden-kontrakt/\?region=RM&year=2025&basis=supplier$")
    )
    suppliers = main.get_by_test_id("off-contract-suppliers")
    # L8 and L9 at 44444444 (no contract), L6 at 22222222 the day before C2 started,
    # L3 + L4 at 11111111 after C1 (and its extension) ended
    expect(suppliers).to_contain_text("44444444")
    expect(suppliers).to_contain_text("22222222")
    expect(suppliers).to_contain_text("11111111")
    expect(suppliers).not_to_contain_text("33333333")  # C3 covers its lines
    assert_no_csp_violations(console_errors)
