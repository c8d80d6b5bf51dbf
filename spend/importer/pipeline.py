"""The ledger-extract import engine: store an upload, import it, switch it in, sweep.

Called by the upload page and API (ledger_upload), the import task (ledger_batch_process),
the sweeper task (ledger_batches_sweep) and the import_ledger command. It sends tasks by
name only (rfi.tasks), so spend.tasks imports this module and never the reverse.
"""

from __future__ import annotations

# Import ---------------------------------------------------------------------------------------
# An extract goes: ledger_batch_create (store the file, hash it, spot a duplicate) →
# ledger_batch_process (detect → map columns → validate every row → normalise → load →
# switch in). See spend/importer/ for the pieces and docs/performance.md for the figures.
import calendar
import datetime as dt
import hashlib
import logging
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import DataError, connection, transaction
from django.db.models import Count, Q, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from rfi import permissions
from rfi.models import Category, Region
from rfi.tasks import BrokerUnavailable, enqueue
from rfi.validation import plausible_dates
from spend import matching, selectors, signals
from spend.importer import detect, load
from spend.importer.columns import map_columns
from spend.importer.errors import ErrorSink, ImportRefused
from spend.importer.parse import CsvChunks, XlsxChunks
from spend.importer.preview import FileMonths, ReplacementPreview, replacement_preview
from spend.importer.validate import Rules, check, detect_decimal_comma
from spend.models import ColumnMapping, ImportBatch, LedgerLine

logger = logging.getLogger(__name__)

HASH_BLOCK = 1 << 20
# How long an import waits for another import of the same region to finish.
LOCK_WAIT_SECONDS = 15 * 60
Progress = Callable[[ImportBatch], None]


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date] | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ImportRefused(_("Give both the first and the last day of the period, or neither."))
    if start > end:
        raise ImportRefused(_("The period ends before it starts."))
    return start, end


def _plausible_period(period: tuple[dt.date, dt.date] | None) -> None:
    """Refuse a declared period starting before PLAUSIBLE_DATES' first day (2000-01-01) or
    ending more than a year after today: a typo such as 1990-2099 would empty a region."""
    if period is None:
        return
    earliest = plausible_dates()[0]
    today = timezone.localdate()
    try:
        latest = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + 1, day=28)
    start, end = period
    if start < earliest or end > latest:
        raise ImportRefused(
            _(
                "The period %(start)s – %(end)s is not plausible: it must start on or after "
                "%(earliest)s and end by %(latest)s (a year from today). Nothing was saved."
            )
            % {
                "start": _fmt(start),
                "end": _fmt(end),
                "earliest": _fmt(earliest),
                "latest": _fmt(latest),
            },
            code="implausible_period",
        )


def _hash(source, limit: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while block := source.read(HASH_BLOCK):
        size += len(block)
        if size > limit:
            raise ImportRefused(
                _("The file is larger than the limit of %(limit)s.")
                % {"limit": filesizeformat(limit)},
                code="too_large",
            )
        digest.update(block)
    return digest.hexdigest(), size


def ledger_batch_create(
    *,
    region: Region,
    file_name: str,
    actor=None,
    source: str = ImportBatch.Source.UPLOAD,
    uploaded_file=None,
    path: str | Path | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    replace_confirmed: bool = False,
) -> ImportBatch:
    """Store an uploaded extract as a queued batch, or record it as a duplicate.

    Reads the file once to hash it, refusing it (ImportRefused, nothing stored) as soon
    as it passes settings.LEDGER_MAX_UPLOAD_BYTES, or when its name holds a path or an
    unsupported extension. The same file (SHA-256) already imported, queued or running
    for the region gives a batch with status ``duplicate`` that changes nothing.
    The caller enqueues ledger_batch_process for a queued batch (transaction.on_commit).
    A declared period outside the plausible range is refused. ``replace_confirmed``: the
    uploader confirmed beforehand that the import may delete the period's stored lines;
    without it such an import stops at ``awaiting`` with a preview (spend.importer.preview).
    """
    name = detect.check_file_name(file_name)
    detect.kind_from_name(name)
    period = _period(period_start, period_end)
    _plausible_period(period)
    limit = settings.LEDGER_MAX_UPLOAD_BYTES
    declared = getattr(uploaded_file, "size", None)
    if declared is not None and declared > limit:
        raise ImportRefused(
            _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(limit)},
            code="too_large",
        )
    with _SourceFile(uploaded_file, path) as fh:
        sha256, size = _hash(fh, limit)
        if size == 0:
            raise ImportRefused(_("The file is empty."), code="empty")
        batch = ImportBatch(
            region=region,
            period_start=period[0] if period else None,
            period_end=period[1] if period else None,
            source=source,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            file_name=name,
            sha256=sha256,
            size=size,
            replace_confirmed=replace_confirmed,
        )
        refused = _refused_before(region, sha256)
        if refused:
            return _refused_again(batch, refused)
        original = _imported_before(region, sha256)
        if original:
            batch.status = ImportBatch.Status.DUPLICATE
            batch.file.name = original.file.name
            batch.finished_at = timezone.now()
            batch.message = _(
                "The same file (SHA-256 %(hash)s…) was already imported as batch %(id)s on "
                "%(date)s: nothing changed."
            ) % {
                "hash": sha256[:12],
                "id": original.pk,
                "date": timezone.localtime(original.uploaded_at).strftime("%d-%m-%Y %H:%M"),
            }
            batch.save()
            return batch
        fh.seek(0)
        batch.file.save(get_valid_filename(name), File(fh), save=False)
    try:
        batch.save()
    except Exception:
        batch.file.delete(save=False)
        raise
    _cancel_earlier_awaiting(batch)
    return batch


def _cancel_earlier_awaiting(batch: ImportBatch) -> None:
    """The same file uploaded again (e.g. with confirm_replace) ends the earlier batch that
    waits for a confirmation, so it cannot be confirmed on top of the new one."""
    earlier = ImportBatch.objects.filter(
        region_id=batch.region_id,
        sha256=batch.sha256,
        status=ImportBatch.Status.AWAITING,
        pk__lt=batch.pk,
    )
    for other in earlier:
        _cancel(other, _("Uploaded again as batch %(id)s.") % {"id": batch.pk})


class _SourceFile:
    """The upload or the path as a seekable binary file."""

    def __init__(self, uploaded_file, path):
        if (uploaded_file is None) == (path is None):
            raise ValueError("give uploaded_file or path")
        self.uploaded_file, self.path, self.fh, self.spare = uploaded_file, path, None, None

    def __enter__(self):
        if self.path is not None:
            self.fh = open(self.path, "rb")  # noqa: SIM115 – closed in __exit__
            return self.fh
        upload = self.uploaded_file
        upload.seek(0)
        if hasattr(upload, "seekable") and not upload.seekable():
            self.spare = tempfile.TemporaryFile()
            shutil.copyfileobj(upload, self.spare, HASH_BLOCK)
            self.spare.seek(0)
            return self.spare
        return upload

    def __exit__(self, *exc):
        for fh in (self.fh, self.spare):
            if fh is not None:
                fh.close()


def _refused_before(region: Region, sha256: str) -> ImportBatch | None:
    """The latest batch of the same file refused for what it holds (not for an outage)."""
    return (
        ImportBatch.objects.filter(
            region=region, sha256=sha256, status=ImportBatch.Status.FAILED, error_count__gt=0
        )
        .order_by("-pk")
        .first()
    )


def _refused_again(batch: ImportBatch, refused: ImportBatch) -> ImportBatch:
    """The same file again: answered at once with the earlier report, never sent to a worker."""
    batch.status = ImportBatch.Status.FAILED
    batch.file.name = refused.file.name
    batch.errors = refused.errors
    batch.error_count = refused.error_count
    batch.errors_file.name = refused.errors_file.name
    batch.rows_total = refused.rows_total
    batch.finished_at = timezone.now()
    batch.message = _(
        "The same file (SHA-256 %(hash)s…) was refused as batch %(id)s on %(date)s; its "
        "report is repeated here. Correct the file and upload it again."
    ) % {
        "hash": batch.sha256[:12],
        "id": refused.pk,
        "date": timezone.localtime(refused.uploaded_at).strftime("%d-%m-%Y %H:%M"),
    }
    batch.save()
    return batch


def _imported_before(region: Region, sha256: str) -> ImportBatch | None:
    return (
        ImportBatch.objects.filter(
            region=region,
            sha256=sha256,
            status__in=[
                ImportBatch.Status.DONE,
                ImportBatch.Status.QUEUED,
                ImportBatch.Status.RUNNING,
            ],
        )
        .order_by("pk")
        .first()
    )


def ledger_batch_process(*, batch_id: int, progress: Progress | None = None) -> ImportBatch:
    """Import a queued batch: all of it becomes current at once, or none of it.

    Idempotent: a batch that is done, failed, duplicate or superseded is returned as it
    is; one left ``running`` by a worker that died is restarted from the stored file
    after its half-loaded lines are deleted. Imports of one region run one at a time
    (a lock), so two uploads for the same period never interleave: the later upload wins.
    ``progress(batch)`` is called after every chunk with rows_parsed/validated/loaded set.
    """
    batch = ImportBatch.objects.select_related("region").get(pk=batch_id)
    if batch.status not in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING):
        return batch
    with load.region_lock(batch.region_id, timeout=LOCK_WAIT_SECONDS):
        batch.refresh_from_db()
        if batch.status not in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING):
            return batch
        original = _imported_before(batch.region, batch.sha256)
        if original and original.pk < batch.pk:
            return _mark_duplicate(batch, original)
        _start(batch)
        try:
            with Heartbeat(batch.pk), tempfile.TemporaryDirectory(prefix="ledger-") as workdir:
                _run(batch, Path(workdir), _stoppable(progress or (lambda batch: None)))
        except WorkerStopping:
            # The worker is being stopped: nothing of the batch stays, and the next sweep
            # (within a minute) sends it again to a worker that is not stopping.
            logger.warning("import of batch %s put back in the queue: the worker stops", batch.pk)
            load.delete_lines(batch.pk)
            _requeue(batch)
        except ImportRefused as refused:
            _fail(batch, refused.message, [refused.as_row_error().as_dict()], 1, None)
        except DataError as exc:
            # A value validation let through but the database would not take: refuse the
            # file (retrying cannot help) rather than leave it for the sweeper forever.
            logger.exception("database refused a line of batch %s", batch.pk)
            load.delete_lines(batch.pk)
            message = _("The database refused a line (%(error)s); nothing was imported.") % {
                "error": str(exc).strip()[:300]
            }
            _fail(
                batch,
                message,
                [{"row": None, "column": "", "value": "", "reason": message}],
                1,
                None,
            )
        except Exception:
            # Leave it running: the sweeper retries, and a retry starts from a clean slate.
            logger.exception("import of batch %s stopped", batch.pk)
            try:
                load.delete_lines(batch.pk)
            except Exception:  # noqa: BLE001 – e.g. the database is gone; the retry cleans up
                logger.warning("lines of batch %s left for the retry", batch.pk)
            raise
    return batch


class WorkerStopping(Exception):
    """The worker was asked to stop and the import would outlast its stop grace."""


# Set when the worker is asked to stop (spend.tasks connects the worker's signals).
STOP = threading.Event()
_stop_since: list[float] = []


def request_stop() -> None:
    if not STOP.is_set():
        _stop_since[:] = [time.monotonic()]
        STOP.set()


def _stoppable(callback: Progress) -> Progress:
    """The progress callback, which aborts the import at the next chunk once the worker
    has been stopping for settings.LEDGER_STOP_GRACE_SECONDS (less than compose's stop
    grace period, so the batch is put back before the worker is killed)."""

    def check(batch: ImportBatch) -> None:
        if STOP.is_set():
            waited = time.monotonic() - (_stop_since[0] if _stop_since else 0)
            if waited >= settings.LEDGER_STOP_GRACE_SECONDS:
                raise WorkerStopping
        callback(batch)

    return check


def _requeue(batch: ImportBatch) -> None:
    batch.status = ImportBatch.Status.QUEUED
    batch.sent_at = None
    batch.heartbeat_at = None
    batch.rows_loaded = 0
    batch.message = _(
        "The import was interrupted because its worker was stopped; it has been queued again "
        "and will start within a minute."
    )
    batch.save(update_fields=["status", "sent_at", "heartbeat_at", "rows_loaded", "message"])


class Heartbeat:
    """Writes the running batch's heartbeat_at every LEDGER_HEARTBEAT_SECONDS from a thread
    with its own connection, so a worker that died (kill -9, a lost machine) falls silent
    and the sweeper sends the batch again after LEDGER_HEARTBEAT_STALE_SECONDS.

    SQLite (tests, the embedded mode) has one writer at a time: no thread, the batch's
    start time stands for the heartbeat there.
    """

    def __init__(self, batch_id: int):
        self.batch_id = batch_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self):
        if connection.vendor == "postgresql":
            self._thread = threading.Thread(
                target=self._beat, name=f"ledger-heartbeat-{self.batch_id}", daemon=True
            )
            self._thread.start()
        return self

    def _beat(self) -> None:
        try:
            while not self._stop.wait(settings.LEDGER_HEARTBEAT_SECONDS):
                try:
                    ImportBatch.objects.filter(
                        pk=self.batch_id, status=ImportBatch.Status.RUNNING
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # noqa: BLE001 – the next beat tries again
                    logger.warning("heartbeat of batch %s not written", self.batch_id)
        finally:
            connection.close()  # this thread's own connection

    def __exit__(self, *exc):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()


def _mark_duplicate(batch: ImportBatch, original: ImportBatch) -> ImportBatch:
    batch.status = ImportBatch.Status.DUPLICATE
    batch.finished_at = timezone.now()
    batch.message = _("The same file was already imported as batch %(id)s: nothing changed.") % {
        "id": original.pk
    }
    batch.save(update_fields=["status", "finished_at", "message"])
    return batch


def _start(batch: ImportBatch) -> None:
    # A batch found running was left by a worker that died: undo its half-loaded lines.
    load.delete_lines(batch.pk)
    batch.status = ImportBatch.Status.RUNNING
    batch.attempts += 1
    batch.started_at = batch.heartbeat_at = timezone.now()
    batch.finished_at = None
    batch.rows_total = batch.rows_parsed = batch.rows_validated = batch.rows_loaded = 0
    batch.error_count = 0
    batch.errors = []
    batch.message = ""
    batch.save(
        update_fields=[
            "status",
            "attempts",
            "started_at",
            "heartbeat_at",
            "finished_at",
            "rows_total",
            "rows_parsed",
            "rows_validated",
            "rows_loaded",
            "error_count",
            "errors",
            "message",
        ]
    )


class _Progress:
    """Keeps the batch's row counters up to date for the progress bar.

    On PostgreSQL the lines load inside one long transaction, so the counters go through
    a second connection (a small thread) to be visible while it is open. On SQLite, or
    inside a caller's transaction, they are written on the import's own connection.
    """

    def __init__(self, batch: ImportBatch, callback: Progress):
        self.batch = batch
        self.callback = callback
        self._queue: queue.SimpleQueue | None = None
        self._thread: threading.Thread | None = None
        # True while the import's own connection cannot take another statement (a COPY).
        self.busy = False

    def side_channel(self) -> None:
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return
        self._queue = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._write, name=f"ledger-progress-{self.batch.pk}", daemon=True
        )
        self._thread.start()

    def _write(self) -> None:
        try:
            while (counts := self._queue.get()) is not None:
                ImportBatch.objects.filter(pk=self.batch.pk).update(**counts)
        except Exception:  # noqa: BLE001 – progress is cosmetic; the import goes on
            logger.warning("progress of batch %s not written", self.batch.pk, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def __call__(self, **counts) -> None:
        for name, value in counts.items():
            setattr(self.batch, name, value)
        if self._queue is not None:
            self._queue.put(counts)
        elif not self.busy:
            ImportBatch.objects.filter(pk=self.batch.pk).update(**counts)
        self.callback(self.batch)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = self._queue = None


def _stored_path(batch: ImportBatch, workdir: Path) -> Path:
    try:
        return Path(batch.file.path)
    except NotImplementedError:  # remote storage: fetch a local copy
        target = workdir / "original"
        with batch.file.open("rb") as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, HASH_BLOCK)
        return target


class _Validation:
    """Detect the file, map its columns, then validate it chunk by chunk.

    ``tables()`` yields each chunk's normalised lines as long as no error has been found;
    after the first error it keeps reading (to report every error) but yields nothing.
    """

    def __init__(self, batch: ImportBatch, workdir: Path):
        self.batch = batch
        name = batch.file_name
        kind = detect.kind_from_name(name)
        path = _stored_path(batch, workdir)
        detect.check_magic(path, kind, name)
        if kind == detect.XLSX:
            detect.check_xlsx(path)
            workbook = XlsxChunks(path)
            headers, self.lines, self.separator = workbook.headers, workbook.lines - 1, ","
        else:
            if kind == detect.CSV_GZ:
                path = detect.gunzip(path, workdir / "extract.csv")
                detect.check_magic(path, detect.CSV, name)
            text = detect.inspect_text(path)
            headers, self.lines, self.separator = text.headers, text.lines - 1, text.separator
        self.lines = max(self.lines, 0)
        # Read here, before a COPY holds the connection: validation never queries.
        self.check_digits = dict(Category.objects.values_list("code", "check_digit"))
        saved = ColumnMapping.objects.filter(region=batch.region).values_list(
            "source_header", "canonical"
        )
        self.columns = map_columns(headers, saved)
        self._chunks = (
            workbook.chunks(self.columns) if kind == detect.XLSX else CsvChunks(text, self.columns)
        )
        self.period = _period(batch.period_start, batch.period_end)
        self.annotator = None
        self.observers: list = []
        self.sink = ErrorSink(
            max_rows=getattr(settings, "LEDGER_ERROR_REPORT_ROWS", 10_000),
            max_bytes=max(batch.size, 1 << 20),  # the upload's size, or 1 MB for a small file
        )
        self.rows = self.parsed = 0
        self.total = Decimal("0.00")
        self.file_months = FileMonths()
        self.first: dt.date | None = None
        self.last: dt.date | None = None

    def tables(self, progress: _Progress):
        rules = None
        self.annotator = _line_annotator(self.batch)
        # Before the first chunk, while the connection is free: observers may query.
        self.observers = [
            observer
            for _receiver, observer in signals.ledger_import_started.send(
                sender=ImportBatch, batch=self.batch
            )
            if observer is not None
        ]
        for chunk in self._chunks:
            self.parsed += chunk.num_rows + len(chunk.errors)
            if rules is None and chunk.num_rows:
                rules = Rules(
                    columns=self.columns,
                    region_code=self.batch.region.code,
                    region_names=(self.batch.region.name_da, self.batch.region.name_en),
                    decimal_comma=detect_decimal_comma(chunk.columns["amount"], self.separator),
                    period=self.period,
                    check_digits=self.check_digits,
                )
            if rules is None:  # only invalid rows so far
                self.sink.extend(chunk.errors)
            else:
                checked = check(chunk, rules)
                self.sink.extend(checked.errors)
                if not self.sink.count:
                    self.rows += checked.table.num_rows
                    self.total += checked.total
                    self.first = min(filter(None, (self.first, checked.first_date)), default=None)
                    self.last = max(filter(None, (self.last, checked.last_date)), default=None)
                    self.file_months.add(checked.table)
                    yield self._annotated(checked.table)
            progress(rows_parsed=self.parsed, rows_validated=self.parsed)

    def _annotated(self, table):
        if self.annotator is None:
            return table
        started = time.perf_counter()
        columns = self.annotator.annotate(table)
        self.batch.mapping_seconds = getattr(self.batch, "mapping_seconds", 0.0) + (
            time.perf_counter() - started
        )
        for name in load.ANNOTATION_COLUMNS:
            if name in columns:
                table = table.append_column(name, columns[name])
        if self.observers:
            started = time.perf_counter()
            for observer in self.observers:
                observer.add(table)
            self.batch.facts_seconds = getattr(self.batch, "facts_seconds", 0.0) + (
                time.perf_counter() - started
            )
        return table

    def observers_complete(self) -> None:
        """Tell the observers that they have seen every chunk (``complete()``, if they have it)."""
        started = time.perf_counter()
        for observer in self.observers:
            complete = getattr(observer, "complete", None)
            if complete is not None:
                complete()
        self.batch.facts_seconds = getattr(self.batch, "facts_seconds", 0.0) + (
            time.perf_counter() - started
        )

    def refusal(self) -> ImportRefused | None:
        if self.sink.count:
            return ImportRefused(
                _(
                    "The file was refused: %(count)s errors (shown below, the full list as "
                    "CSV). Nothing was imported; correct the file and upload it again."
                )
                % {"count": self.sink.count},
                code="invalid_rows",
            )
        if not self.rows:
            return ImportRefused(
                _("The file holds only a header, no ledger lines."), code="only_header"
            )
        return None

    def period_covered(self) -> tuple[dt.date, dt.date]:
        return self.period or _months_around(self.first, self.last)

    def replacement(self) -> ReplacementPreview:
        """What the switch would replace: one aggregate query; never during the COPY."""
        return replacement_preview(
            region_id=self.batch.region_id,
            period=self.period_covered(),
            declared=self.period is not None,
            file_months=self.file_months,
        )


class _Rollback(Exception):
    pass


class _AwaitConfirmation(Exception):
    """The import would delete stored lines (or declares months it has no lines for) and
    the upload did not confirm it: roll back, keep the file, show the preview."""

    def __init__(self, preview: ReplacementPreview):
        super().__init__()
        self.preview = preview


def _check_replacement(batch: ImportBatch, validation: _Validation) -> None:
    preview = validation.replacement()
    batch.replace_preview = preview.as_json()
    if preview.needs_confirmation and not batch.replace_confirmed:
        raise _AwaitConfirmation(preview)


def _line_annotator(batch: ImportBatch):
    """The mapping's spend.matching.LineAnnotator: it computes each valid chunk's category
    and contract flags, so the lines are written once with their final values instead of
    loaded and then rewritten by UPDATEs."""
    return matching.LineAnnotator(batch.region_id)


def _run(batch: ImportBatch, workdir: Path, callback: Progress) -> None:
    progress = _Progress(batch, callback)
    validation = _Validation(batch, workdir)
    progress(rows_total=validation.lines)
    try:
        if connection.vendor == "postgresql":
            _load_in_one_transaction(batch, validation, progress)
        else:
            _load_spooled(batch, validation, progress, workdir)
    except _AwaitConfirmation as waiting:
        _await_confirmation(batch, waiting.preview)
    except _Rollback:
        refusal = validation.refusal()
        if validation.sink.count:
            errors = [error.as_dict() for error in validation.sink.first]
            _fail(batch, refusal.message, errors, validation.sink.count, validation.sink)
        else:
            _fail(batch, refusal.message, [refusal.as_row_error().as_dict()], 1, None)
    finally:
        progress.close()
        validation.sink.close()
    callback(batch)


def _load_in_one_transaction(batch: ImportBatch, validation: _Validation, progress) -> None:
    """PostgreSQL: one COPY fed with each chunk as soon as it is valid, then the switch, all
    in one transaction.

    The server parses and indexes a chunk while the next one is validated; a file with an
    invalid row aborts the COPY and rolls back, so no line of it is ever committed.
    """
    progress.side_channel()
    with transaction.atomic():
        with load.LineCopy(batch_id=batch.pk, region_id=batch.region_id) as copy:
            # The connection is busy with the COPY: counters go through the side channel.
            progress.busy = True
            for table in validation.tables(progress):
                progress(rows_loaded=copy.write(table))
            if validation.refusal():
                raise _Rollback
            # The server is still loading the queued chunks: the observers work meanwhile.
            validation.observers_complete()
        progress.busy = False
        progress.close()
        # The COPY is over: the connection takes the one aggregate query of the preview.
        _check_replacement(batch, validation)
        _switch_in(
            batch,
            period=validation.period_covered(),
            rows=validation.rows,
            total=validation.total,
            annotator=validation.annotator,
            observed=validation.observers,
        )


def _load_spooled(batch: ImportBatch, validation: _Validation, progress, workdir: Path) -> None:
    """SQLite: validate all, then insert in chunks (other writers get their turn between
    them) under the batch while it is not current, then switch in."""
    spool = load.Spool(workdir)
    for table in validation.tables(progress):
        spool.write(table)
    spool.close()
    if validation.refusal():
        raise _Rollback
    validation.observers_complete()
    _check_replacement(batch, validation)
    try:
        load.insert_spool(
            spool,
            batch_id=batch.pk,
            region_id=batch.region_id,
            progress=lambda loaded: progress(rows_loaded=loaded),
        )
        _switch_in(
            batch,
            period=validation.period_covered(),
            rows=validation.rows,
            total=validation.total,
            annotator=validation.annotator,
            observed=validation.observers,
        )
    except BaseException:
        load.delete_lines(batch.pk)
        raise


def _months_around(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The whole months the lines fall in: a re-extract of a month replaces all of it."""
    end_day = calendar.monthrange(last.year, last.month)[1]
    return first.replace(day=1), last.replace(day=end_day)


def _fail(batch: ImportBatch, message: str, errors: list[dict], count: int, sink) -> None:
    batch.status = ImportBatch.Status.FAILED
    batch.message = str(message)
    batch.errors = errors
    batch.error_count = count
    batch.finished_at = timezone.now()
    fields = ["status", "message", "errors", "error_count", "finished_at"]
    fields += ["rows_total", "rows_parsed", "rows_validated", "rows_loaded"]
    batch.rows_loaded = 0  # whatever went into the COPY was rolled back or deleted
    report = sink.csv_bytes_file() if sink else None
    if report is not None:
        stem = Path(get_valid_filename(batch.file_name)).stem
        batch.errors_file.save(f"{stem}-errors.csv", File(report), save=False)
        fields.append("errors_file")
    batch.save(update_fields=fields)


def _await_confirmation(batch: ImportBatch, preview: ReplacementPreview) -> None:
    """Validated, nothing deleted, no line kept: the batch waits for confirm or cancel."""
    batch.status = ImportBatch.Status.AWAITING
    batch.replace_preview = preview.as_json()
    batch.rows_loaded = 0
    batch.spend_total = preview.file_amount
    batch.finished_at = timezone.now()
    batch.message = preview.summary()
    batch.save(
        update_fields=[
            "status",
            "replace_preview",
            "rows_total",
            "rows_parsed",
            "rows_validated",
            "rows_loaded",
            "spend_total",
            "finished_at",
            "message",
        ]
    )


def _fmt(day: dt.date) -> str:
    return day.strftime("%d-%m-%Y")


def _switch_in(
    batch: ImportBatch,
    *,
    period: tuple[dt.date, dt.date],
    rows: int,
    total,
    annotator=None,
    observed=(),
) -> None:
    """Make the loaded batch current for its period, in one short transaction.

    Current batches of the region whose period lies inside the new one are superseded
    and their lines deleted; one that only overlaps loses its lines inside the period.
    Readers see the old lines or the new, never both or neither. If a newer upload for an
    overlapping period is already current, this older one is superseded instead.
    after_lines_loaded(batch) runs inside the same transaction, so mapped and matched
    lines become visible together; it gets the ``annotator`` that already filled the
    lines' columns, if one did; ``observed`` (spend.signals.ledger_import_started) saw the
    annotated chunks and is handed on to the facts if those columns are final.
    """
    start, end = period
    with transaction.atomic():
        # Serialises switches of one region (SQLite: the IMMEDIATE transaction does).
        list(Region.objects.select_for_update().filter(pk=batch.region_id))
        overlapping = list(
            selectors.current_batches_overlapping(region_id=batch.region_id, start=start, end=end)
            .select_for_update()
            .exclude(pk=batch.pk)
            .order_by("pk")
        )
        now = timezone.now()
        newer = [other for other in overlapping if other.pk > batch.pk]
        if newer:
            load.delete_lines(batch.pk)
            batch.status = ImportBatch.Status.SUPERSEDED
            batch.period_start, batch.period_end = start, end
            batch.is_current = False
            batch.finished_at = now
            batch.rows_loaded = 0
            batch.message = _(
                "Not used: a newer file for this period (batch %(id)s) was imported first."
            ) % {"id": newer[-1].pk}
            batch.save()
            return
        replaced = []
        whole, trimmed = [], []
        for old in overlapping:
            if start <= old.period_start and old.period_end <= end:
                whole.append(old.pk)
                load.delete_lines(old.pk)
                old.is_current = False
                old.status = ImportBatch.Status.SUPERSEDED
                # Its lines are gone, as on the other supersede path (a newer batch first).
                old.rows_loaded = 0
                old.message = _("Replaced by batch %(id)s (%(file)s).") % {
                    "id": batch.pk,
                    "file": batch.file_name,
                }
                old.save(update_fields=["is_current", "status", "rows_loaded", "message"])
            else:
                trimmed.append(old.pk)
                load.delete_lines(old.pk, between=(start, end))
                left = LedgerLine.objects.filter(batch_id=old.pk).aggregate(
                    rows=Count("pk"), total=Sum("amount")
                )
                old.rows_loaded = left["rows"]
                old.spend_total = left["total"] or Decimal("0.00")
                old.message = (
                    old.message
                    + ("\n" if old.message else "")
                    + _("Lines from %(start)s to %(end)s replaced by batch %(id)s.")
                    % {"start": _fmt(start), "end": _fmt(end), "id": batch.pk}
                )
                old.save(update_fields=["rows_loaded", "spend_total", "message"])
            replaced.append(old)
        batch.period_start, batch.period_end = start, end
        batch.status = ImportBatch.Status.DONE
        batch.is_current = True
        batch.rows_total = rows
        batch.rows_loaded = rows
        batch.spend_total = total
        batch.finished_at = now
        batch.message = _("%(rows)s lines imported for %(start)s – %(end)s.") % {
            "rows": rows,
            "start": _fmt(start),
            "end": _fmt(end),
        }
        if replaced:
            batch.message += " " + _("They replace batch %(ids)s.") % {
                "ids": ", ".join(str(old.pk) for old in replaced)
            }
        batch.save()
        started = time.perf_counter()
        # None: the annotator's columns are the lines' final values (no rule or contract
        # changed meanwhile), so what the observers saw is what the batch holds.
        remapped = after_lines_loaded(batch, annotator=annotator)
        # Not a field: how long the mapping took, for import_ledger --json (the benchmark).
        batch.mapping_seconds = getattr(batch, "mapping_seconds", 0.0) + (
            time.perf_counter() - started
        )
        # The KPI rollups of the new lines, in this transaction (kpi.facts).
        started = time.perf_counter()
        signals.ledger_switched_in.send(
            sender=ImportBatch,
            batch=batch,
            period=(start, end),
            replaced=whole,
            trimmed=trimmed,
            observed=tuple(observed) if annotator is not None and remapped is None else (),
        )
        batch.facts_seconds = getattr(batch, "facts_seconds", 0.0) + (time.perf_counter() - started)
        kpi_refresh_after_import(batch)


# Mapping and matching -------------------------------------------------------------------------
def after_lines_loaded(batch: ImportBatch, annotator=None):
    """Map categories, apply exclusions and flag contract matches of a just-loaded batch.

    Set-based UPDATEs in spend/matching.py, or nothing when ``annotator``
    (matching.LineAnnotator) computed the columns before the COPY (docs/spend.md).
    """
    return matching.after_lines_loaded(batch, annotator=annotator)


def kpi_refresh_after_import(batch: ImportBatch) -> None:
    """The pipeline's last step: once the switch commits, have the KPI app recompute the
    batch's region (sent by name, once per transaction; a dead broker never fails the
    import)."""
    matching.kpi_refresh_on_commit(batch.region_id)


# Upload and queue -----------------------------------------------------------------------------
# A page or API upload is stored as a queued batch (ledger_batch_create) and handed to Celery
# (spend.import_batch) once the batch is committed. A dead broker leaves the batch queued and
# unsent, and the officer is told so; the sweeper (spend.sweep_batches, every minute) sends
# what was never sent, what was sent but not started for a while, and what a dead worker left
# running (its heartbeat fell silent), so no upload is forgotten and a dead worker costs
# minutes. docs/spend.md "Upload and queue", docs/operations.md "Faults and recovery".
MAX_ATTEMPTS = 5
IMPORT_TASK = "spend.import_batch"


def _seconds(name: str) -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, name))


@dataclass
class LedgerUpload:
    """An upload's batch, and whether it reached the task queue (None: nothing to send)."""

    batch: ImportBatch
    enqueued: bool | None = None

    @property
    def queue_unreachable(self) -> bool:
        return self.enqueued is False


def ledger_upload(
    *,
    region: Region,
    uploaded_file,
    actor,
    source: str,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    confirm_replace: bool = False,
) -> LedgerUpload:
    """Store an uploaded extract for ``region`` and queue its import when the batch commits.

    Refuses (PermissionDenied) a user who may not upload for the region, and (ImportRefused,
    nothing stored) a file the engine will not take. A duplicate is recorded, not queued.
    Outside a transaction the batch is sent at once, so ``enqueued`` is known on return.
    Without ``confirm_replace`` an import that would delete stored lines stops at
    ``awaiting`` with its preview (ledger_batch_confirm / ledger_batch_cancel).
    """
    if not permissions.can_upload_ledger(actor, region):
        raise PermissionDenied(
            _("You may not upload ledger extracts for %(region)s.") % {"region": region.name}
        )
    batch = ledger_batch_create(
        region=region,
        file_name=uploaded_file.name or "",
        actor=actor,
        source=source,
        uploaded_file=uploaded_file,
        period_start=period_start,
        period_end=period_end,
        replace_confirmed=confirm_replace,
    )
    result = LedgerUpload(batch=batch)
    if batch.status == ImportBatch.Status.QUEUED:

        def send() -> None:
            result.enqueued = ledger_batch_enqueue(batch)

        transaction.on_commit(send)
    return result


def ledger_replacement_check(
    *, region: Region, actor, period_start: dt.date | None, period_end: dt.date | None
) -> ReplacementPreview | None:
    """Before a file is read: what a declared period would delete of the stored lines (one
    aggregate query), or None when nothing is stored in it or no period is declared.

    The API answers 409 with it at once, before storing the file; the file's own figures
    come with the full preview once the import has read it (``awaiting``).
    Raises PermissionDenied for a user who may not upload for the region (the preview
    shows its stored figures), ImportRefused for an incomplete or implausible period.
    """
    if not permissions.can_upload_ledger(actor, region):
        raise PermissionDenied(
            _("You may not upload ledger extracts for %(region)s.") % {"region": region.name}
        )
    period = _period(period_start, period_end)
    _plausible_period(period)
    if period is None:
        return None
    preview = replacement_preview(
        region_id=region.pk, period=period, declared=True, file_months=None
    )
    return preview if preview.stored_lines else None


def _awaiting_for(batch: ImportBatch, actor) -> ImportBatch:
    if not permissions.can_upload_ledger(actor, batch.region):
        raise PermissionDenied(
            _("You may not upload ledger extracts for %(region)s.") % {"region": batch.region.name}
        )
    locked = ImportBatch.objects.select_for_update().filter(pk=batch.pk).first()
    if locked is None or locked.status != ImportBatch.Status.AWAITING:
        raise ImportRefused(
            _("This upload no longer waits for a confirmation; nothing was changed."),
            code="not_awaiting",
        )
    return locked


def ledger_batch_confirm(*, batch: ImportBatch, actor) -> LedgerUpload:
    """The uploader confirms the replacement the preview showed: the import runs again from
    the stored file (validation included) and switches in, deleting the period's lines.

    Refuses (PermissionDenied) a user who may not upload for the region, and (ImportRefused)
    a batch that does not wait for a confirmation (already confirmed or cancelled).
    """
    with transaction.atomic():
        locked = _awaiting_for(batch, actor)
        locked.replace_confirmed = True
        locked.status = ImportBatch.Status.QUEUED
        locked.sent_at = None
        locked.finished_at = None
        locked.message = _("Replacement confirmed; the import is queued.")
        locked.save(
            update_fields=["replace_confirmed", "status", "sent_at", "finished_at", "message"]
        )
        result = LedgerUpload(batch=locked)

        def send() -> None:
            result.enqueued = ledger_batch_enqueue(locked)

        transaction.on_commit(send)
    return result


def ledger_batch_cancel(*, batch: ImportBatch, actor) -> ImportBatch:
    """The uploader cancels an upload that waits for a confirmation: nothing is imported,
    the stored file is deleted and the batch stays as a record (status ``cancelled``)."""
    with transaction.atomic():
        locked = _awaiting_for(batch, actor)
        _cancel(locked, _("Cancelled: nothing was imported, and the file was deleted."))
    return locked


def ledger_batch_withdraw(batch: ImportBatch) -> ImportBatch:
    """import_ledger without --replace: its batch that waits for a confirmation is cancelled
    at once (nothing imported, the stored file deleted); the command is run again with
    --replace to import it."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status == ImportBatch.Status.AWAITING:
            _cancel(
                locked,
                _("Not imported: the replacement was not confirmed; run again with --replace."),
            )
    return locked


def _cancel(batch: ImportBatch, message: str) -> None:
    name = batch.file.name
    batch.status = ImportBatch.Status.CANCELLED
    batch.message = message
    batch.finished_at = timezone.now()
    fields = ["status", "message", "finished_at"]
    if name and not ImportBatch.objects.filter(file=name).exclude(pk=batch.pk).exists():
        storage = batch.file.storage
        batch.file = None
        batch.file_purged_at = batch.finished_at
        fields += ["file", "file_purged_at"]
        transaction.on_commit(lambda: storage.delete(name))
    batch.save(update_fields=fields)


def ledger_batch_enqueue(batch: ImportBatch) -> bool:
    """Hand a queued (or stalled) batch to spend.import_batch; False when the broker is down.

    The batch stays queued either way: the sweeper sends it again. In eager mode (no
    broker configured) the import runs here, inline.
    """
    pending = [ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING]
    ImportBatch.objects.filter(pk=batch.pk, status__in=pending).update(sent_at=timezone.now())
    try:
        enqueue(current_app.tasks[IMPORT_TASK], batch.pk)
    except BrokerUnavailable:
        message = _(
            "Saved and queued. The task queue cannot be reached just now, so the file will "
            "be imported as soon as the queue is back; nothing more to do."
        )
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.QUEUED).update(
            message=message, sent_at=None
        )
        batch.message = message
        return False
    return True


def ledger_batches_sweep(*, now: dt.datetime | None = None) -> int:
    """Send again the batches a fault left behind; return how many were sent.

    - queued and never sent (the broker was down at upload): sent at the first sweep
      after LEDGER_UNSENT_GRACE_SECONDS, so within a minute of the broker's return;
    - queued and sent over LEDGER_QUEUED_STALE_SECONDS ago (the message was lost), unless
      the region has a live import, which it is waiting for;
    - running with a heartbeat older than LEDGER_HEARTBEAT_STALE_SECONDS: its worker died
      (kill -9, a lost machine). It is put back to queued with a message saying so, and
      the retry restarts it from its file. A dead run does not count as the region's live
      import, so it holds no queued upload of the region.

    After MAX_ATTEMPTS starts a batch is marked failed with a message instead.
    """
    now = now or timezone.now()
    Status = ImportBatch.Status
    dead_before = now - _seconds("LEDGER_HEARTBEAT_STALE_SECONDS")
    alive = Q(heartbeat_at__gte=dead_before) | Q(
        heartbeat_at__isnull=True, started_at__gte=dead_before
    )
    running = ImportBatch.objects.filter(status=Status.RUNNING)
    busy_regions = set(running.filter(alive).values_list("region_id", flat=True))
    stale = ImportBatch.objects.filter(
        Q(status=Status.QUEUED, sent_at__isnull=True)
        & Q(uploaded_at__lt=now - _seconds("LEDGER_UNSENT_GRACE_SECONDS"))
        | Q(status=Status.QUEUED, sent_at__lt=now - _seconds("LEDGER_QUEUED_STALE_SECONDS"))
        | (Q(status=Status.RUNNING) & ~alive)
    ).order_by("pk")
    sent = 0
    for batch in stale:
        if batch.status == Status.QUEUED and batch.sent_at and batch.region_id in busy_regions:
            continue
        if batch.attempts >= MAX_ATTEMPTS:
            _give_up(batch)
            continue
        if batch.status == Status.RUNNING:
            # Said on the batch page until the retry starts (_start clears the message).
            # Queued again, so the next sweeps wait for the re-sent message to be taken.
            ImportBatch.objects.filter(pk=batch.pk, status=Status.RUNNING).update(
                status=Status.QUEUED,
                message=_(
                    "The import stopped before it finished (attempt %(attempt)s of %(max)s); "
                    "it has been queued again."
                )
                % {"attempt": batch.attempts, "max": MAX_ATTEMPTS},
            )
            logger.warning("sweep: batch %s ran on a worker that went silent", batch.pk)
        if not ledger_batch_enqueue(batch):
            logger.warning("sweep: the broker is down; %s batches left for the next run", sent)
            break
        sent += 1
    if sent:
        logger.info("sweep: %s ledger batches queued again", sent)
    return sent


def _give_up(batch: ImportBatch) -> None:
    with transaction.atomic():
        locked = (
            ImportBatch.objects.select_for_update()
            .filter(pk=batch.pk, status__in=[ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING])
            .first()
        )
        if locked is None:  # finished meanwhile
            return
        load.delete_lines(locked.pk)
        message = _(
            "The import was started %(attempts)s times and never finished (a worker stopped "
            "each time); it will not be tried again. Nothing was imported. Upload the file "
            "again, or ask the secretariat to look at the server's log."
        ) % {"attempts": locked.attempts}
        _fail(
            locked, message, [{"row": None, "column": "", "value": "", "reason": message}], 1, None
        )
    logger.error("ledger batch %s failed after %s attempts", batch.pk, batch.attempts)
