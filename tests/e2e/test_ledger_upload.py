"""Ledger uploads in a real browser: the progress bar runs to done; a bad file shows its report.

The page's own words are English msgids the Danish catalogue has yet to translate, so the
test finds things by role, name attribute and test id rather than by their text.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from spend.importer import pipeline
from spend.models import ImportBatch, LedgerLine
from tests.e2e.test_tender_plan import assert_no_csp_violations
from tests.spend.ledger_files import JANUARY, csv_bytes

pytestmark = pytest.mark.e2e

BAD_ROWS = [
    ["02-01-2025", "1001", "F-1", "12345678", "Ærø Hospitalsudstyr A/S", "22110", "4100", "12,34,5", "Handsker", "", ""],
    ["31-02-2025", "1002", "F-2", "1234", "Søborg ApS", "22110", "4100", "10,00", "Kaffe", "", ""],
]  # fmt: skip


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def held_in_queue(monkeypatch):
    """The queue takes the batch but no worker picks it up until the test says so."""
    held: list[int] = []
    monkeypatch.setattr(
        pipeline, "ledger_batch_enqueue", lambda batch: held.append(batch.pk) or True
    )
    return held


def _upload(page, tmp_path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    page.goto("/forbrug/indlaes/")
    form = page.get_by_test_id("upload-form")
    expect(form.locator('select[name="region"]')).to_have_value("RM")
    form.locator('input[name="file"]').set_input_files(str(path))
    form.locator('button[type="submit"]').click()


def test_an_officer_uploads_a_file_and_watches_the_progress_bar_reach_done(
    e2e_page, officer, media, held_in_queue, log_in, tmp_path, artifacts_dir, console_errors
):
    page = e2e_page
    log_in(page, officer.username)

    # when: the officer uploads January's extract
    _upload(page, tmp_path, "januar.csv", csv_bytes(JANUARY))

    # then: the batch page shows it queued, polling for news
    progress = page.get_by_test_id("batch-progress")
    expect(progress).to_have_attribute("data-status", "queued")
    expect(progress).to_have_attribute("data-hx-trigger", "every 1s")
    expect(page.get_by_role("heading", level=1)).to_have_text("januar.csv")
    page.screenshot(path=str(artifacts_dir / "ledger-upload-queued.png"), full_page=True)

    # when: a worker imports it (the page is left alone: no reload by the test)
    (batch_id,) = held_in_queue
    pipeline.ledger_batch_process(batch_id=batch_id)

    # then: the page notices by itself, and the bars are full
    expect(page.get_by_test_id("batch-progress")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("rows-loaded")).to_have_text("4")
    bar = page.locator("#progress-loaded")
    expect(bar).to_have_attribute("value", "4")
    expect(bar).to_have_attribute("max", "4")
    expect(page.get_by_test_id("batch-lines")).to_have_text("4")
    expect(page.get_by_test_id("batch-progress")).not_to_have_attribute(
        "data-hx-trigger", "every 1s"
    )
    page.screenshot(path=str(artifacts_dir / "ledger-upload-done.png"), full_page=True)
    assert LedgerLine.objects.filter(batch_id=batch_id).count() == 4

    # and the list of uploads shows it imported
    page.goto("/forbrug/indlaes/")
    row = page.get_by_test_id("batches").locator(f'tr[data-batch="{batch_id}"]')
    expect(row).to_contain_text("januar.csv")
    expect(row.locator(".batch-done")).to_be_visible()
    assert_no_csp_violations(console_errors)


def test_an_officer_uploads_a_bad_file_and_reads_the_error_report_and_its_csv(
    e2e_page, officer, media, log_in, tmp_path, artifacts_dir, console_errors
):
    page = e2e_page
    log_in(page, officer.username)

    # when: the file has an amount like 12,34,5, a date like 31-02-2025, a short CVR
    _upload(page, tmp_path, "forkert.csv", csv_bytes(BAD_ROWS))

    # then: refused (eager import), with every error by row, column and reason
    expect(page.get_by_test_id("batch-progress")).to_have_attribute("data-status", "failed")
    table = page.get_by_test_id("batch-errors")
    expect(table.locator("tbody tr")).to_have_count(3)
    amount = table.locator("tbody tr").filter(has_text="12,34,5")
    expect(amount.locator("td").nth(0)).to_have_text("2")
    expect(amount.locator("td").nth(1)).to_have_text("Beløb")
    expect(amount.locator("td").nth(3)).not_to_be_empty()
    date = table.locator("tbody tr").filter(has_text="31-02-2025")
    expect(date.locator("td").nth(0)).to_have_text("3")
    expect(date.locator("td").nth(1)).to_have_text("Bogføringsdato")
    page.screenshot(path=str(artifacts_dir / "ledger-upload-refused.png"), full_page=True)

    # and the whole report downloads as CSV
    with page.expect_download() as download_info:
        page.get_by_test_id("errors-csv").click()
    download = download_info.value
    assert download.suggested_filename == "forkert-fejl.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    report = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert report[0] == ["row", "column", "value", "reason"]
    assert {(row[0], row[1]) for row in report[1:]} == {
        ("2", "Beløb"),
        ("3", "Bogføringsdato"),
        ("3", "Leverandør CVR"),
    }
    assert not LedgerLine.objects.exists()
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED
    assert_no_csp_violations(console_errors)


def test_on_a_phone_each_error_reads_whole_with_its_reason(
    e2e_page, officer, media, log_in, tmp_path, artifacts_dir, console_errors
):
    page = e2e_page
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, officer.username)
    rows = [list(JANUARY[0]), list(JANUARY[1])]
    rows[0][7] = "1.234,56 kr."  # the currency beside the amount is fine
    rows[1][7] = "EUR 100,00"  # another currency is not

    _upload(page, tmp_path, "marts.csv", csv_bytes(rows))

    # then: the one error, as a block whose every part fits the phone's width
    expect(page.get_by_test_id("batch-progress")).to_have_attribute("data-status", "failed")
    table = page.get_by_test_id("batch-errors")
    expect(table.locator("tbody tr")).to_have_count(1)
    reason = table.locator("tbody td").nth(3)
    expect(reason).to_have_text("er i en anden valuta: hovedbogens beløb er i DKK")
    for cell in table.locator("tbody td").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    # each part under its heading
    expect(table.locator("tbody td").nth(2)).to_have_attribute("data-label", "Værdi")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390
    page.screenshot(path=str(artifacts_dir / "ledger-upload-refused-390.png"), full_page=True)
    assert not LedgerLine.objects.exists()
    assert_no_csp_violations(console_errors)
