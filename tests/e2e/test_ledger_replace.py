"""A ledger upload that would replace stored lines: the preview, then confirm or cancel (issue 12 §1).

Stored: RM's January 2025 (4 lines, 1,251,099.90 kr.) and February 2025 (1 line); the
officer uploads a corrected January (2 lines, 1.500,50 kr.). The page is Danish.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from spend.models import ImportBatch
from tests.e2e.test_ledger_upload import _upload
from tests.e2e.test_tender_plan import assert_no_csp_violations
from tests.spend.ledger_files import (
    FEBRUARY,
    JANUARY,
    JANUARY_V2,
    JANUARY_V2_TOTAL,
    csv_bytes,
    current_total,
    import_file,
    snapshot,
)

pytestmark = pytest.mark.e2e
WIDTHS = [1366, 390]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def stored(regions, media):
    batch = import_file(regions["RM"], csv_bytes(JANUARY + FEBRUARY), "jan-feb.csv")
    assert batch.status == ImportBatch.Status.DONE
    return batch


def _fits(page) -> None:
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (scroll_width, inner_width)


def _see_the_preview(page, width: int, artifacts_dir, name: str) -> None:
    progress = page.get_by_test_id("batch-progress")
    expect(progress).to_have_attribute("data-status", "awaiting")
    preview = page.get_by_test_id("replace-preview")
    expect(preview).to_be_visible()
    january = preview.locator('tr[data-month="2025-01"]')
    expect(january.locator("td").nth(0)).to_have_text("4")
    expect(january.locator("td").nth(1)).to_have_text("1.251.100 kr.")
    expect(january.locator("td").nth(2)).to_have_text("2")
    expect(january.locator("td").nth(3)).to_have_text("1.501 kr.")
    expect(page.get_by_test_id("confirm-replace")).to_have_text(
        "Erstat 4 linjer, 1,3 mio. kr., for januar 2025"
    )
    expect(page.get_by_test_id("cancel-replace")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / f"{name}-{width}.png"), full_page=True)
    if width <= 390:
        _fits(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_an_officer_sees_what_would_be_replaced_and_confirms(
    e2e_page, officer, regions, stored, log_in, tmp_path, artifacts_dir, console_errors, width
):
    page = e2e_page
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, officer.username)
    before = snapshot()

    # when: the corrected January is uploaded (no task queue: checked at once)
    _upload(page, tmp_path, "januar-rettet.csv", csv_bytes(JANUARY_V2))

    # then: nothing is replaced yet; the page shows month by month what would be
    _see_the_preview(page, width, artifacts_dir, "ledger-replace-preview")
    assert snapshot() == before

    # when: the officer confirms
    page.get_by_test_id("confirm-replace").click()

    # then: imported, January replaced, February kept
    expect(page.get_by_test_id("batch-progress")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("batch-lines")).to_have_text("2")
    assert current_total(regions["RM"]) == JANUARY_V2_TOTAL + Decimal("10.00")
    if width <= 390:
        _fits(page)
    assert_no_csp_violations(console_errors)


@pytest.mark.parametrize("width", WIDTHS)
def test_an_officer_cancels_and_nothing_changes(
    e2e_page, officer, regions, stored, log_in, tmp_path, artifacts_dir, console_errors, width
):
    page = e2e_page
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, officer.username)
    before = snapshot()

    _upload(page, tmp_path, "januar-rettet.csv", csv_bytes(JANUARY_V2))
    _see_the_preview(page, width, artifacts_dir, "ledger-replace-cancel")

    page.get_by_test_id("cancel-replace").click()

    expect(page.get_by_test_id("batch-progress")).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_test_id("replace-preview")).to_have_count(0)
    expect(page.get_by_test_id("file-purged")).to_be_visible()
    assert snapshot() == before
    if width <= 390:
        _fits(page)
    assert_no_csp_violations(console_errors)
