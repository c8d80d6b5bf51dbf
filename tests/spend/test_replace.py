"""Replacing a period: all or nothing, never a mix or a gap; duplicates; idempotent runs."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections

from spend.importer import pipeline, validate
from spend.importer.pipeline import ledger_batch_process
from spend.models import ImportBatch, LedgerLine
from spend.synthetic import write_extract
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
    upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "english")]
needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent connections need PostgreSQL"
)


def test_a_new_file_for_the_same_period_replaces_the_old(regions):
    region = regions["RM"]
    old = import_file(region, csv_bytes(JANUARY), "januar.csv")
    new = import_file(region, csv_bytes(JANUARY_V2), "januar-rettet.csv")
    old.refresh_from_db()
    assert new.status == ImportBatch.Status.DONE and new.is_current
    assert old.status == ImportBatch.Status.SUPERSEDED and not old.is_current
    assert f"Replaced by batch {new.pk}" in old.message
    assert f"They replace batch {old.pk}" in new.message
    # the old lines are gone, not merely hidden
    assert not LedgerLine.objects.filter(batch=old).exists()
    assert current_total(region) == JANUARY_V2_TOTAL


def test_other_periods_and_regions_are_left_alone(regions):
    january = import_file(regions["RM"], csv_bytes(JANUARY), "januar.csv")
    february = import_file(regions["RM"], csv_bytes(FEBRUARY), "februar.csv")
    syddanmark = import_file(regions["RSD"], csv_bytes(JANUARY), "januar.csv")
    import_file(regions["RM"], csv_bytes(JANUARY_V2), "januar-rettet.csv")
    february.refresh_from_db()
    syddanmark.refresh_from_db()
    january.refresh_from_db()
    assert february.is_current and syddanmark.is_current and not january.is_current
    assert current_total(regions["RM"]) == JANUARY_V2_TOTAL + Decimal("10.00")
    assert current_total(regions["RSD"]) == JANUARY_TOTAL


def test_a_month_replaces_its_part_of_a_longer_period(regions):
    region = regions["RM"]
    year = import_file(
        region,
        csv_bytes(JANUARY + FEBRUARY),
        "2025.csv",
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 12, 31),
    )
    month = import_file(region, csv_bytes(JANUARY_V2), "januar-rettet.csv")
    year.refresh_from_db()
    # the year keeps February, January comes from the new file
    assert year.is_current and month.is_current
    assert current_total(region) == JANUARY_V2_TOTAL + Decimal("10.00")
    assert year.rows_loaded == 1 and year.spend_total == Decimal("10.00")
    assert "Lines from 01-01-2025 to 31-01-2025 replaced" in year.message


def test_the_newest_upload_wins_whatever_order_they_are_processed_in(regions):
    region = regions["RM"]
    older = upload(region, csv_bytes(JANUARY), "januar.csv")
    newer = upload(region, csv_bytes(JANUARY_V2), "januar-rettet.csv")
    # the newer upload is processed first; the older one, delayed, must not undo it
    ledger_batch_process(batch_id=newer.pk)
    older = ledger_batch_process(batch_id=older.pk)
    assert older.status == ImportBatch.Status.SUPERSEDED
    assert f"newer file for this period (batch {newer.pk})" in older.message
    assert not LedgerLine.objects.filter(batch=older).exists()
    assert current_total(region) == JANUARY_V2_TOTAL


def test_the_same_file_twice_changes_nothing(regions):
    region = regions["RM"]
    first = import_file(region, csv_bytes(JANUARY), "januar.csv")
    before = snapshot()
    again = upload(region, csv_bytes(JANUARY), "januar (kopi).csv")
    assert again.status == ImportBatch.Status.DUPLICATE
    assert f"already imported as batch {first.pk}" in again.message
    assert again.file.name == first.file.name  # no second copy stored
    assert ledger_batch_process(batch_id=again.pk).status == ImportBatch.Status.DUPLICATE
    assert snapshot() == before


def test_the_same_file_for_another_region_is_not_a_duplicate(regions):
    import_file(regions["RM"], csv_bytes(JANUARY))
    other = import_file(regions["RSD"], csv_bytes(JANUARY))
    assert other.status == ImportBatch.Status.DONE


def test_two_queued_copies_of_one_file_import_once(regions):
    region = regions["RM"]
    first = upload(region, csv_bytes(JANUARY))
    # a race: both uploads passed the duplicate check before either was saved
    second = upload(region, csv_bytes(JANUARY_V2))
    ImportBatch.objects.filter(pk=second.pk).update(sha256=first.sha256)
    ledger_batch_process(batch_id=first.pk)
    second = ledger_batch_process(batch_id=second.pk)
    assert second.status == ImportBatch.Status.DUPLICATE
    assert current_total(region) == JANUARY_TOTAL


def test_an_old_file_can_be_imported_again_after_it_was_replaced(regions):
    region = regions["RM"]
    import_file(region, csv_bytes(JANUARY), "januar.csv")
    import_file(region, csv_bytes(JANUARY_V2), "januar-rettet.csv")
    back = import_file(region, csv_bytes(JANUARY), "januar.csv")
    assert back.status == ImportBatch.Status.DONE
    assert current_total(region) == JANUARY_TOTAL


def test_processing_twice_is_a_no_op(regions):
    batch = upload(regions["RM"], csv_bytes(JANUARY))
    done = ledger_batch_process(batch_id=batch.pk)
    before = snapshot()
    again = ledger_batch_process(batch_id=batch.pk)
    assert again.status == ImportBatch.Status.DONE
    assert again.attempts == done.attempts == 1
    assert snapshot() == before
    failed = import_file(regions["RN"], b"no;separator;here\r\n")
    assert ledger_batch_process(batch_id=failed.pk).status == ImportBatch.Status.FAILED


def test_a_batch_left_running_by_a_dead_worker_restarts_without_duplicates(regions):
    region = regions["RM"]
    batch = upload(region, csv_bytes(JANUARY))
    # given a worker that died half-way: the batch says running and holds stray lines
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING, attempts=1)
    LedgerLine.objects.bulk_create(
        LedgerLine(
            batch=batch,
            region=region,
            row_number=2,
            posting_date=dt.date(2025, 1, 2),
            supplier_id="12345678",
            amount=Decimal("1234.56"),
        )
        for _ in range(3)
    )
    # when the sweeper hands it to a worker again
    batch = ledger_batch_process(batch_id=batch.pk)
    # then every line is there once
    assert batch.status == ImportBatch.Status.DONE
    assert batch.attempts == 2
    assert LedgerLine.objects.filter(batch=batch).count() == len(JANUARY)
    assert current_total(region) == JANUARY_TOTAL


def test_the_switch_is_one_transaction(regions, monkeypatch):
    region = regions["RM"]
    old = import_file(region, csv_bytes(JANUARY), "januar.csv")
    before = snapshot()
    deleted = []
    real_delete = pipeline.load.delete_lines

    def delete_then_watch(batch_id, **kwargs):
        deleted.append((batch_id, connection.in_atomic_block))
        return real_delete(batch_id, **kwargs)

    def fail(batch, annotator=None):
        # by now the old lines are deleted and the new batch marked current…
        assert not LedgerLine.objects.filter(batch=old).exists()
        assert ImportBatch.objects.get(pk=batch.pk).is_current
        raise RuntimeError("mapping failed")

    monkeypatch.setattr(pipeline.load, "delete_lines", delete_then_watch)
    working_mapping = pipeline.after_lines_loaded
    monkeypatch.setattr(pipeline, "after_lines_loaded", fail)
    batch = upload(region, csv_bytes(JANUARY_V2), "januar-rettet.csv")
    with pytest.raises(RuntimeError, match="mapping failed"):
        ledger_batch_process(batch_id=batch.pk)
    # …and all of it is undone together: readers never saw a gap or a mix
    assert (old.pk, True) in deleted
    assert snapshot() == before
    assert current_total(region) == JANUARY_TOTAL
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.RUNNING  # left for the sweeper's retry
    # the retry, once mapping works again, completes
    monkeypatch.setattr(pipeline, "after_lines_loaded", working_mapping)
    assert ledger_batch_process(batch_id=batch.pk).status == ImportBatch.Status.DONE
    assert current_total(region) == JANUARY_V2_TOTAL


def test_the_hook_runs_with_the_batch_current(regions, monkeypatch):
    seen = []

    def hook(batch, annotator=None):
        seen.append(
            (batch.status, batch.is_current, LedgerLine.objects.filter(batch=batch).count())
        )

    monkeypatch.setattr(pipeline, "after_lines_loaded", hook)
    import_file(regions["RM"], csv_bytes(JANUARY))
    assert seen == [(ImportBatch.Status.DONE, True, len(JANUARY))]


def test_a_refused_file_leaves_no_line_behind(regions):
    bad = JANUARY + [["31-02-2025", *JANUARY[0][1:]]]
    batch = import_file(regions["RM"], csv_bytes(bad))
    assert batch.status == ImportBatch.Status.FAILED
    assert not LedgerLine.objects.exists()


# Concurrency (PostgreSQL: real connections and committed data) --------------------------------


def _extract(tmp_path, name, rows, seed):
    path = write_extract(
        tmp_path / name,
        rows=rows,
        region="RM",
        seed=seed,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 1, 31),
    )
    return path.read_bytes()


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_readers_see_the_old_total_or_the_new_never_a_mix(regions, tmp_path):
    region = regions["RM"]
    old = import_file(region, _extract(tmp_path, "old.csv", 30_000, seed=1), "old.csv")
    new = upload(region, _extract(tmp_path, "new.csv", 30_000, seed=2), "new.csv")
    old_total = current_total(region)
    seen: list[Decimal] = []
    stop = threading.Event()

    def reader():
        try:
            with connections["default"].cursor() as cursor:
                while not stop.is_set():
                    cursor.execute(
                        "SELECT COALESCE(SUM(l.amount), 0) FROM spend_ledgerline l "
                        "JOIN spend_importbatch b ON b.id = l.batch_id "
                        "WHERE b.is_current AND b.region_id = %s",
                        [region.pk],
                    )
                    seen.append(cursor.fetchone()[0])
        finally:
            connections["default"].close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        while not seen:
            time.sleep(0.01)
        new = ledger_batch_process(batch_id=new.pk)
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert new.status == ImportBatch.Status.DONE
    new_total = current_total(region)
    assert new_total != old_total
    assert len(seen) > 10, "the reader did not run during the replacement"
    assert set(seen) <= {old_total, new_total}, set(seen) - {old_total, new_total}
    assert seen[0] == old_total and seen[-1] == new_total
    assert old.pk != new.pk


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_for_the_same_region_and_period_are_serialised(regions, tmp_path):
    region = regions["RM"]
    first = upload(region, _extract(tmp_path, "a.csv", 20_000, seed=3), "a.csv")
    second = upload(region, _extract(tmp_path, "b.csv", 20_000, seed=4), "b.csv")
    results: dict[int, ImportBatch] = {}
    errors: list[BaseException] = []

    def work(batch_id):
        try:
            results[batch_id] = ledger_batch_process(batch_id=batch_id)
        except BaseException as exc:  # noqa: BLE001 – reported below
            errors.append(exc)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=work, args=(b.pk,)) for b in (second, first)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    first, second = results[first.pk], results[second.pk]
    for batch in (first, second):
        batch.refresh_from_db()  # the one that ran first was superseded afterwards
    # one ran after the other: their running times do not overlap
    spans = sorted([(first.started_at, first.finished_at), (second.started_at, second.finished_at)])
    assert spans[0][1] <= spans[1][0]
    # the newer upload is current, whoever finished last; nothing of the other is left
    assert second.is_current and second.status == ImportBatch.Status.DONE
    assert first.status == ImportBatch.Status.SUPERSEDED
    assert ImportBatch.objects.filter(region=region, is_current=True).count() == 1
    assert LedgerLine.objects.filter(region=region).count() == second.rows_loaded == 20_000


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_others_while_the_import_runs(regions, tmp_path):
    region = regions["RM"]
    batch = upload(region, _extract(tmp_path, "p.csv", 200_000, seed=5), "p.csv")
    seen: list[tuple[int, int]] = []

    def look(current):
        # another connection, as the progress bar's request would read it
        def read():
            try:
                row = ImportBatch.objects.filter(pk=current.pk).values_list(
                    "rows_parsed", "rows_loaded"
                )[0]
                seen.append(row)
            finally:
                connections["default"].close()

        reader = threading.Thread(target=read)
        reader.start()
        reader.join()

    done = ledger_batch_process(batch_id=batch.pk, progress=look)
    assert done.status == ImportBatch.Status.DONE
    assert any(0 < parsed < 200_000 for parsed, _loaded in seen), seen


def test_an_error_after_thousands_of_valid_lines_still_refuses_all(regions, tmp_path):
    # given an extract whose last line is wrong, long enough to be read in several chunks
    path = tmp_path / "big.csv"
    write_extract(path, rows=120_000, region="RM", seed=9)
    data = path.read_bytes() + b"31-02-2025;1;F1;12345678;A;1;1;1,00;x;;\r\n"
    assert len(data) > 8 << 20  # the reader takes 8 MB blocks
    before = snapshot()
    # when it is imported
    batch = import_file(regions["RM"], data, "big.csv")
    # then nothing of it is written, though the first chunks were valid (and, on
    # PostgreSQL, already streaming into the COPY)
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error_count == 1 and batch.errors[0]["row"] == 120_002
    assert snapshot() == before
    assert batch.rows_parsed == 120_001


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite ignores varchar lengths")
def test_a_value_the_database_refuses_fails_the_batch(regions, monkeypatch):
    # a validation gap: accounts up to 100 characters pass, the column holds 20
    loose = tuple((n, 100 if n == "account" else m, r) for n, m, r in validate.TEXT_COLUMNS)
    monkeypatch.setattr(validate, "TEXT_COLUMNS", loose)
    rows = [list(JANUARY[0])]
    rows[0][5] = "9" * 30
    before = snapshot()
    batch = import_file(regions["RM"], csv_bytes(rows))
    assert batch.status == ImportBatch.Status.FAILED
    assert "database refused a line" in batch.message
    assert snapshot() == before


def test_both_supersede_paths_record_no_rows_loaded(regions):
    # Replaced after it was current, and superseded before it could be: both lost their
    # lines, and both say so the same way.
    region = regions["RM"]
    replaced = import_file(region, csv_bytes(JANUARY), "januar.csv")
    replaced_rows = replaced.rows_loaded
    late = upload(region, csv_bytes(JANUARY, newline="\n"), "januar-sen.csv")
    newest = import_file(region, csv_bytes(JANUARY_V2), "januar-rettet.csv")
    late = ledger_batch_process(batch_id=late.pk)
    replaced.refresh_from_db()

    assert replaced_rows > 0
    assert newest.status == ImportBatch.Status.DONE
    statuses = {replaced.status, late.status}
    assert statuses == {ImportBatch.Status.SUPERSEDED}
    assert (replaced.rows_loaded, late.rows_loaded) == (0, 0)
    assert not LedgerLine.objects.filter(batch__in=[replaced, late]).exists()
