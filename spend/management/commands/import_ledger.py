"""python manage.py import_ledger FILE --region CODE [--period-start D --period-end D] [--user U]
[--replace]"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from rfi.models import Region
from spend.importer.errors import ImportRefused
from spend.importer.pipeline import (
    ledger_batch_create,
    ledger_batch_process,
    ledger_batch_withdraw,
)
from spend.importer.preview import ReplacementPreview
from spend.models import ImportBatch

SHOWN_ERRORS = 20


def _date(value: str) -> dt.date:
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()  # noqa: DTZ007 – a date
        except ValueError:
            continue
    raise ValueError(value)


class Command(BaseCommand):
    help = (
        "Import a ledger extract (.csv, .csv.gz, .xlsx) for a region: all lines or none. "
        "A file for a period that already has data replaces it only with --replace; without "
        "it the command prints what would be replaced and changes nothing. Exit status 1 when "
        "refused or not confirmed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the extract")
        parser.add_argument("--region", required=True, help="region code, e.g. RM")
        parser.add_argument(
            "--period-start", type=_date, help="first day (default: from the lines)"
        )
        parser.add_argument("--period-end", type=_date, help="last day (default: from the lines)")
        parser.add_argument("--user", help="username recorded as the uploader")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="confirm that the lines stored for the period may be deleted (and months of a "
            "declared period without lines left empty)",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            region = Region.objects.get(code=options["region"])
        except Region.DoesNotExist:
            codes = ", ".join(Region.objects.values_list("code", flat=True))
            raise CommandError(f"No region {options['region']!r}; regions: {codes}") from None
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user {options['user']!r}")
        verbose = options["verbosity"] >= 2
        started = time.perf_counter()
        try:
            batch = ledger_batch_create(
                region=region,
                path=path,
                file_name=path.name,
                actor=actor,
                source=ImportBatch.Source.COMMAND,
                period_start=options["period_start"],
                period_end=options["period_end"],
                replace_confirmed=options["replace"],
            )
        except ImportRefused as refused:
            return self._refused(options, None, str(refused.message), started)
        if batch.status == ImportBatch.Status.QUEUED:
            batch = ledger_batch_process(
                batch_id=batch.pk, progress=self._progress if verbose else None
            )
        seconds = time.perf_counter() - started
        if batch.status == ImportBatch.Status.AWAITING:
            # Nothing waits for a later confirmation here: the command is run again with --replace.
            preview = ReplacementPreview.from_json(batch.replace_preview)
            batch = ledger_batch_withdraw(batch)
            return self._not_confirmed(options, batch, preview, seconds)
        if options["json"]:
            self.stdout.write(json.dumps(self._summary(batch, seconds), default=str))
        elif batch.status == ImportBatch.Status.FAILED:
            self._print_errors(batch)
        else:
            self.stdout.write(f"{batch.get_status_display()}: {batch.message}")
            if batch.status == ImportBatch.Status.DONE:
                self.stdout.write(
                    f"Batch {batch.pk}: {batch.rows_loaded:,} lines, spend {batch.spend_total:,}, "
                    f"{batch.period_start:%d-%m-%Y} – {batch.period_end:%d-%m-%Y}, "
                    f"{seconds:.1f} s"
                )
        if batch.status == ImportBatch.Status.FAILED:
            sys.exit(1)

    def _not_confirmed(self, options, batch, preview: ReplacementPreview, seconds: float):
        if options["json"]:
            summary = {**self._summary(batch, seconds), "status": "not_confirmed"}
            summary["preview"] = preview.as_json()
            self.stdout.write(json.dumps(summary, default=str))
        else:
            self.stderr.write(f"Not imported: {preview.summary()}")
            self.stderr.write(
                f"{'month':<8} {'stored':>10} {'amount':>18} {'file':>10} {'amount':>18}"
            )
            for row in preview.months:
                empty = "  becomes empty" if row["month"] in preview.emptied_months else ""
                self.stderr.write(
                    f"{row['month']:<8} {row['stored_lines']:>10,} "
                    f"{Decimal(row['stored_amount']):>18,} {row['file_lines']:>10,} "
                    f"{Decimal(row['file_amount']):>18,}{empty}"
                )
            self.stderr.write("Run again with --replace to import it.")
        sys.exit(1)

    def _progress(self, batch: ImportBatch) -> None:
        self.stderr.write(
            f"\rparsed {batch.rows_parsed:,} validated {batch.rows_validated:,} "
            f"loaded {batch.rows_loaded:,} of ~{batch.rows_total:,}",
            ending="",
        )

    def _summary(self, batch: ImportBatch | None, seconds: float, message: str = "") -> dict:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
        if batch is None:
            return {
                "status": "refused",
                "message": message,
                "seconds": seconds,
                "peak_rss_mb": peak,
            }
        return {
            "batch": batch.pk,
            "status": batch.status,
            "message": batch.message,
            "rows": batch.rows_loaded,
            "spend_total": batch.spend_total,
            "period": [batch.period_start, batch.period_end],
            "error_count": batch.error_count,
            "errors": batch.errors[:SHOWN_ERRORS],
            "seconds": round(seconds, 3),
            "mapping_seconds": round(getattr(batch, "mapping_seconds", 0.0), 3),
            "facts_seconds": round(getattr(batch, "facts_seconds", 0.0), 3),
            "peak_rss_mb": round(peak, 1),
        }

    def _refused(self, options, batch, message: str, started: float):
        if options["json"]:
            summary = self._summary(batch, time.perf_counter() - started, message)
            self.stdout.write(json.dumps(summary, default=str))
        else:
            self.stderr.write(f"Refused: {message}")
        sys.exit(1)

    def _print_errors(self, batch: ImportBatch) -> None:
        self.stderr.write(f"Refused: {batch.message}")
        for error in batch.errors[:SHOWN_ERRORS]:
            row = f"row {error['row']}" if error.get("row") else "file"
            column = f", column {error['column']}" if error.get("column") else ""
            value = f" {error['value']!r}" if error.get("value") else ""
            self.stderr.write(f"  {row}{column}:{value} {error['reason']}")
        if batch.error_count > SHOWN_ERRORS:
            self.stderr.write(f"  … and {batch.error_count - SHOWN_ERRORS:,} more")
        if batch.errors_file:
            try:
                where = batch.errors_file.path
            except NotImplementedError:  # remote storage
                where = batch.errors_file.name
            self.stderr.write(f"All errors: {where}")
