"""Retention: replaced uploads' files are deleted after the grace period; records stay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from spend.models import ImportBatch
from spend.retention import uploads_purge
from tests.spend.ledger_files import (
    JANUARY,
    JANUARY_V2,
    csv_bytes,
    english,  # noqa: F401 – fixture
    import_file,
    media,  # noqa: F401 – fixture
    upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "english")]


@pytest.fixture
def replaced(regions):
    """January uploaded, then a corrected January that replaced it."""
    old = import_file(regions["RM"], csv_bytes(JANUARY), "januar.csv")
    new = import_file(regions["RM"], csv_bytes(JANUARY_V2), "januar-rettet.csv")
    old.refresh_from_db()
    assert old.status == ImportBatch.Status.SUPERSEDED and new.is_current
    return old, new


def _days_later(days: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def test_a_replaced_upload_is_deleted_after_the_retention_period(replaced, settings):
    # given
    old, new = replaced
    old_path, new_path = Path(old.file.path), Path(new.file.path)

    # when
    result = uploads_purge(now=_days_later(91))

    # then: the replaced file is gone, the current one stays; the record says so
    assert not old_path.exists()
    assert new_path.exists()
    old.refresh_from_db()
    new.refresh_from_db()
    assert result.batches == [old.pk]
    assert result.bytes_freed == old.size
    assert not old.file and old.file_purged_at is not None
    assert old.sha256 and old.status == ImportBatch.Status.SUPERSEDED
    assert new.file and new.file_purged_at is None


def test_within_the_retention_period_nothing_is_deleted(replaced):
    old, _ = replaced

    result = uploads_purge(now=_days_later(89))

    assert result.batches == []
    assert Path(old.file.path).exists()


def test_the_period_counts_from_the_replacement_not_the_upload(replaced):
    # given: the old file was uploaded long before it was replaced
    old, new = replaced
    ImportBatch.objects.filter(pk=old.pk).update(
        uploaded_at=timezone.now() - dt.timedelta(days=400),
        finished_at=timezone.now() - dt.timedelta(days=399),
    )

    # when: 89 days after the replacement
    result = uploads_purge(now=_days_later(89))

    # then
    assert result.batches == []


def test_the_number_of_days_is_a_setting(replaced, settings):
    old, _ = replaced
    settings.LEDGER_SUPERSEDED_RETENTION_DAYS = 10

    assert uploads_purge(now=_days_later(9)).batches == []
    assert uploads_purge(now=_days_later(11)).batches == [old.pk]


def test_a_duplicate_upload_goes_with_the_replaced_original(regions):
    # given: the current January, sent twice, then replaced by a correction
    first = import_file(regions["RM"], csv_bytes(JANUARY), "januar.csv")
    duplicate = upload(regions["RM"], csv_bytes(JANUARY), "januar-igen.csv")
    assert duplicate.status == ImportBatch.Status.DUPLICATE
    assert duplicate.file.name == first.file.name
    import_file(regions["RM"], csv_bytes(JANUARY_V2), "januar-rettet.csv")

    # when
    uploads_purge(now=_days_later(91))

    # then: the shared file went with the replaced upload, and both records say so
    first.refresh_from_db()
    duplicate.refresh_from_db()
    assert first.file_purged_at and duplicate.file_purged_at
    assert not first.file and not duplicate.file


def test_purge_uploads_command(replaced, settings, capsys):
    old, _ = replaced
    settings.LEDGER_SUPERSEDED_RETENTION_DAYS = 0

    call_command("purge_uploads")

    assert "1 files deleted" in capsys.readouterr().out
    old.refresh_from_db()
    assert old.file_purged_at is not None


def test_the_batch_page_says_the_file_was_deleted(replaced, persona_client):
    # given
    old, _ = replaced
    uploads_purge(now=_days_later(91))
    _, client = persona_client("officer_rm")

    # when
    page = client.get(reverse("spend:batch", kwargs={"pk": old.pk}))
    download = client.get(reverse("spend:batch_file", kwargs={"pk": old.pk}))

    # then
    assert page.status_code == 200
    assert 'data-testid="file-purged"' in page.content.decode()
    assert "Filen blev slettet den" in page.content.decode()  # Danish first
    assert 'data-testid="original-link"' not in page.content.decode()
    assert download.status_code == 404
