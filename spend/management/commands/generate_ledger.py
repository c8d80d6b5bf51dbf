"""python manage.py generate_ledger --rows N --region CODE --seed S --out FILE"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from spend.synthetic import ENCODINGS, FORMATS, write_extract


def _format_of(path: str) -> str:
    lower = path.lower()
    if lower.endswith(".gz"):
        return "csv.gz"
    if lower.endswith(".xlsx"):
        return "xlsx"
    return "csv"


class Command(BaseCommand):
    help = (
        "Write a realistic synthetic Danish ledger extract: Pareto supplier spend, ~80 % of "
        "lines under 10,000 DKK, credit notes, every ordering channel, some lines without "
        "CPV code, Danish supplier names and CVR numbers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, required=True)
        parser.add_argument("--region", required=True, help="region code (seeds names and ids)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", required=True, help="file to write")
        parser.add_argument("--format", choices=FORMATS, help="default: from --out's extension")
        parser.add_argument("--encoding", choices=ENCODINGS, default="utf-8-sig")
        parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2025, 1, 1))
        parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2025, 12, 31))

    def handle(self, *args, **options):
        if options["rows"] < 1:
            raise CommandError("--rows must be at least 1")
        if options["start"] > options["end"]:
            raise CommandError("--start is after --end")
        fmt = options["format"] or _format_of(options["out"])
        if fmt == "xlsx" and options["rows"] > 1_048_575:
            raise CommandError("An Excel sheet holds at most 1,048,575 lines under its header")
        started = time.perf_counter()
        path = write_extract(
            options["out"],
            rows=options["rows"],
            region=options["region"],
            seed=options["seed"],
            fmt=fmt,
            encoding=options["encoding"],
            start=options["start"],
            end=options["end"],
        )
        self.stdout.write(
            f"Wrote {options['rows']:,} lines to {path} ({path.stat().st_size / 1e6:.1f} MB, "
            f"{fmt}, {options['encoding']}) in {time.perf_counter() - started:.1f} s"
        )
