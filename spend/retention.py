"""Retention of uploaded ledger extracts: replaced uploads' files go after a grace period.

A superseded batch's file (and error report) is deleted LEDGER_SUPERSEDED_RETENTION_DAYS
after a newer upload replaced it; the batch record, its figures and SHA-256 stay, and
``file_purged_at`` tells the batch page that the file is gone by rule. A file is kept
while any batch that is not superseded still names it (a duplicate upload names its
original's file; the current batch's original always stays).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rfi.backup import maintenance_lock
from spend.models import ImportBatch

logger = logging.getLogger(__name__)

# Batches whose files never keep a file alive: replaced ones, and duplicates (which name
# their original's file and go with it).
_NOT_KEEPING = (ImportBatch.Status.SUPERSEDED, ImportBatch.Status.DUPLICATE)


@dataclass
class PurgeResult:
    batches: list[int] = field(default_factory=list)
    files_deleted: int = 0
    bytes_freed: int = 0


def superseded_at(batch: ImportBatch) -> dt.datetime | None:
    """When ``batch`` was replaced: the first later upload of its region and period to switch in.

    The batch's own finished_at when it was superseded on arrival (a newer file was
    imported first). Batches carry no timestamp of their own for this.
    """
    if batch.status != ImportBatch.Status.SUPERSEDED:
        return None
    since = batch.finished_at or batch.uploaded_at
    overlapping = Q()
    if batch.period_start and batch.period_end:
        overlapping = Q(period_start__lte=batch.period_end, period_end__gte=batch.period_start)
    replacer = (
        ImportBatch.objects.filter(
            overlapping,
            region_id=batch.region_id,
            pk__gt=batch.pk,
            status__in=(ImportBatch.Status.DONE, ImportBatch.Status.SUPERSEDED),
            finished_at__gte=since,
        )
        .order_by("finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return max(since, replacer) if replacer else since


def uploads_purge(*, now: dt.datetime | None = None, days: int | None = None) -> PurgeResult:
    """Delete the files of uploads superseded more than ``days`` ago; record it on the batches."""
    now = now or timezone.now()
    days = settings.LEDGER_SUPERSEDED_RETENTION_DAYS if days is None else days
    cutoff = now - dt.timedelta(days=days)
    result = PurgeResult()
    with maintenance_lock():  # never while a backup tars the files
        due = [
            batch
            for batch in ImportBatch.objects.filter(
                status=ImportBatch.Status.SUPERSEDED, file_purged_at__isnull=True
            ).order_by("pk")
            if (superseded_at(batch) or now) <= cutoff
        ]
        if not due:
            return result
        due_ids = {batch.pk for batch in due}
        kept = set(
            ImportBatch.objects.exclude(status__in=_NOT_KEEPING).values_list("file", flat=True)
        ) | set(
            ImportBatch.objects.filter(status=ImportBatch.Status.SUPERSEDED)
            .exclude(pk__in=due_ids)
            .exclude(file_purged_at__isnull=False)
            .values_list("file", flat=True)
        )
        names = {batch.file.name for batch in due if batch.file} - kept
        names |= {batch.errors_file.name for batch in due if batch.errors_file} - set(
            ImportBatch.objects.exclude(pk__in=due_ids).values_list("errors_file", flat=True)
        )
        names.discard("")
        for name in sorted(names):
            try:
                size = default_storage.size(name)
                default_storage.delete(name)
            except FileNotFoundError:
                size = 0  # already gone (a restore, a hand): the record is still updated
            result.files_deleted += 1
            result.bytes_freed += size
        # Every batch that named a deleted file records it (duplicates included); a due
        # batch whose file another batch still needs keeps its link.
        with transaction.atomic():
            for batch in ImportBatch.objects.select_for_update().filter(
                Q(file__in=names) | Q(errors_file__in=names)
            ):
                changed = []
                if batch.errors_file.name in names:
                    batch.errors_file.name = ""
                    changed.append("errors_file")
                if batch.file.name in names:
                    batch.file.name = ""
                    batch.file_purged_at = now
                    changed += ["file", "file_purged_at"]
                    result.batches.append(batch.pk)
                batch.save(update_fields=changed)
    logger.info(
        "purged %d files (%d bytes) of %d superseded uploads older than %d days",
        result.files_deleted,
        result.bytes_freed,
        len(result.batches),
        days,
    )
    return result
