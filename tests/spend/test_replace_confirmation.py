"""An upload that would delete stored lines is previewed and waits for confirmation (issue 12 §1).

Stored in the tests below: RM's January 2025 (4 lines, 1,251,099.90) and February 2025
(1 line, 10.00), imported as one file. The corrected January file brings 2 lines, 1,500.50.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from spend.importer import pipeline
from spend.importer.errors import ImportRefused
from spend.importer.preview import ReplacementPreview
from spend.models import ImportBatch
from tests.spend.ledger_files import (
    FEBRUARY,
    JANUARY,
    JANUARY_TOTAL,
    JANUARY_V2,
    JANUARY_V2_TOTAL,
    csv_bytes,
    current_total,
    english,  # noqa: F401 – fixture
    import_file,
    media,  # noqa: F401 – fixture
    snapshot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "english")]
STORED_TOTAL = JANUARY_TOTAL + Decimal("10.00")  # 1,251,109.90


@pytest.fixture
def stored(regions):
    """January and February 2025 stored for RM, as one batch."""
    batch = import_file(regions["RM"], csv_bytes(JANUARY + FEBRUARY), "jan-feb.csv")
    assert batch.status == ImportBatch.Status.DONE
    return batch


def test_a_first_upload_into_an_empty_period_needs_no_confirmation(regions):
    batch = import_file(regions["RM"], csv_bytes(JANUARY), replace_confirmed=False)
    assert batch.status == ImportBatch.Status.DONE
    assert batch.replace_preview["stored_lines"] == 0
    assert current_total(regions["RM"]) == JANUARY_TOTAL


def test_a_correction_waits_with_a_preview_per_month_and_deletes_nothing(regions, stored):
    before = snapshot()

    batch = import_file(
        regions["RM"], csv_bytes(JANUARY_V2), "januar-rettet.csv", replace_confirmed=False
    )

    assert batch.status == ImportBatch.Status.AWAITING
    assert snapshot() == before  # not a line deleted, none added
    assert current_total(regions["RM"]) == STORED_TOTAL
    preview = ReplacementPreview.from_json(batch.replace_preview)
    # the lines fall in January: the period is January, February is not touched
    assert preview.months == [
        {
            "month": "2025-01",
            "stored_lines": 4,
            "stored_amount": "1251099.90",
            "file_lines": 2,
            "file_amount": "1500.50",
        }
    ]
    assert preview.emptied_months == []
    assert preview.confirm_label() == "Replace 4 lines, DKK 1.3 m, for January 2025"
    assert "deletes 4 lines (DKK 1.3 m) stored for January 2025" in batch.message
    with translation.override("da"):
        assert preview.confirm_label() == "Erstat 4 linjer, 1,3 mio. kr., for januar 2025"


def test_confirming_imports_it_and_replaces_the_month(regions, stored, officer_rm):
    batch = import_file(regions["RM"], csv_bytes(JANUARY_V2), replace_confirmed=False)

    pipeline.ledger_batch_confirm(batch=batch, actor=officer_rm)
    batch = pipeline.ledger_batch_process(batch_id=batch.pk)

    assert batch.status == ImportBatch.Status.DONE and batch.replace_confirmed
    # January from the new file, February kept: 1,500.50 + 10.00
    assert current_total(regions["RM"]) == JANUARY_V2_TOTAL + Decimal("10.00")


def test_cancelling_changes_nothing_and_deletes_the_stored_file(
    regions, stored, officer_rm, django_capture_on_commit_callbacks
):
    before = snapshot()
    batch = import_file(regions["RM"], csv_bytes(JANUARY_V2), replace_confirmed=False)
    path = batch.file.path
    assert Path(path).exists()

    with django_capture_on_commit_callbacks(execute=True):
        pipeline.ledger_batch_cancel(batch=batch, actor=officer_rm)

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CANCELLED
    assert not batch.file and batch.file_purged_at is not None
    assert not Path(path).exists()
    assert snapshot() == before
    with pytest.raises(ImportRefused):  # nothing left to confirm
        pipeline.ledger_batch_confirm(batch=batch, actor=officer_rm)


def test_only_the_regions_uploaders_confirm(regions, stored, officer_rsd):
    batch = import_file(regions["RM"], csv_bytes(JANUARY_V2), replace_confirmed=False)
    with pytest.raises(PermissionDenied):
        pipeline.ledger_batch_confirm(batch=batch, actor=officer_rsd)
    with pytest.raises(PermissionDenied):
        pipeline.ledger_batch_cancel(batch=batch, actor=officer_rsd)


def test_a_declared_period_names_the_months_that_become_empty(regions, stored):
    batch = import_file(
        regions["RM"],
        csv_bytes(JANUARY_V2),
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 2, 28),
        replace_confirmed=False,
    )

    assert batch.status == ImportBatch.Status.AWAITING
    preview = ReplacementPreview.from_json(batch.replace_preview)
    assert [(m["month"], m["stored_lines"], m["file_lines"]) for m in preview.months] == [
        ("2025-01", 4, 2),
        ("2025-02", 1, 0),
    ]
    assert preview.stored_lines == 5 and preview.stored_amount == STORED_TOTAL
    assert preview.file_lines == 2 and preview.file_amount == JANUARY_V2_TOTAL
    assert preview.emptied_months == ["2025-02"]
    assert "These months become empty: Feb 2025." in batch.message
    assert preview.confirm_label() == (
        "Replace 5 lines, DKK 1.3 m, for January 2025 – February 2025"
    )


def test_a_declared_period_beyond_the_files_months_needs_confirmation_even_when_empty(regions):
    batch = import_file(
        regions["RM"],
        csv_bytes(JANUARY),
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 3, 31),
        replace_confirmed=False,
    )

    assert batch.status == ImportBatch.Status.AWAITING
    assert current_total(regions["RM"]) == 0
    preview = ReplacementPreview.from_json(batch.replace_preview)
    assert preview.stored_lines == 0
    assert preview.months_without_lines == ["2025-02", "2025-03"]
    assert "no lines for Feb 2025, Mar 2025" in batch.message
    assert preview.confirm_label() == "Import for January 2025 – March 2025"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (dt.date(1990, 1, 1), dt.date(2099, 12, 31)),  # the incident: a region emptied
        (dt.date(1999, 12, 1), dt.date(2025, 1, 31)),
        (dt.date(2025, 1, 1), dt.date(2099, 12, 31)),
    ],
)
def test_an_implausible_period_is_refused_and_nothing_is_stored(regions, stored, start, end):
    before = snapshot()
    with pytest.raises(ImportRefused, match="is not plausible"):
        import_file(
            regions["RM"],
            csv_bytes(JANUARY_V2),
            period_start=start,
            period_end=end,
            replace_confirmed=True,
        )
    assert snapshot() == before
    assert ImportBatch.objects.count() == 1


def test_a_period_ending_within_a_year_from_today_is_taken(regions):
    today = timezone.localdate()
    batch = import_file(
        regions["RM"],
        csv_bytes(JANUARY),
        period_start=dt.date(2025, 1, 1),
        period_end=today.replace(year=today.year + 1, day=1),
        replace_confirmed=True,
    )
    assert batch.status == ImportBatch.Status.DONE


def test_the_same_file_uploaded_again_with_confirmation_ends_the_waiting_one(regions, stored):
    waiting = import_file(regions["RM"], csv_bytes(JANUARY_V2), replace_confirmed=False)

    confirmed = import_file(regions["RM"], csv_bytes(JANUARY_V2), replace_confirmed=True)

    waiting.refresh_from_db()
    assert waiting.status == ImportBatch.Status.CANCELLED
    assert f"Uploaded again as batch {confirmed.pk}" in waiting.message
    assert confirmed.status == ImportBatch.Status.DONE
    assert current_total(regions["RM"]) == JANUARY_V2_TOTAL + Decimal("10.00")


def test_the_home_page_flags_an_upload_that_waits_for_confirmation(regions, stored):
    from rfi.home import latest_uploads

    waiting = import_file(regions["RM"], csv_bytes(JANUARY_V2), replace_confirmed=False)
    items = {item.label: item for item in latest_uploads(regions["RM"]).items}
    assert items[waiting.file_name].urgent
    assert items[waiting.file_name].urgent_text == "Awaiting confirmation"
    assert not items["jan-feb.csv"].urgent


def test_a_stale_confirmation_never_deletes_a_newer_uploads_lines(regions, stored, officer_rm):
    waiting = import_file(regions["RM"], csv_bytes(JANUARY_V2), replace_confirmed=False)
    # another upload replaces January in between: 2 lines, 1,000.00 (1,234.56 - 234.56)
    import_file(regions["RM"], csv_bytes(JANUARY[:2]), "januar-b.csv", replace_confirmed=True)
    before = snapshot()

    pipeline.ledger_batch_confirm(batch=waiting, actor=officer_rm)
    batch = pipeline.ledger_batch_process(batch_id=waiting.pk)

    # the engine's rule for uploads out of order: the newer January stays
    assert batch.status == ImportBatch.Status.SUPERSEDED
    assert snapshot() == before
    assert current_total(regions["RM"]) == Decimal("1000.00") + Decimal("10.00")
