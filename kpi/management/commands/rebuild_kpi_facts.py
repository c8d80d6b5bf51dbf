"""python manage.py rebuild_kpi_facts [--check] (docs/kpi.md "Facts")"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from kpi import facts


class Command(BaseCommand):
    help = (
        "Rebuild the KPI facts (the monthly rollups every KPI is computed from) from the "
        "current ledger lines, in one transaction: after a repair, a restore or a migration. "
        "--check also compares the figures from the facts with the line-level computation."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="then compute every KPI both ways and fail if any figure differs",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        counts = facts.rebuild()
        self.stdout.write(
            f"KPI facts rebuilt in {time.perf_counter() - started:.2f} s: "
            f"{counts['month_facts']:,} month facts, "
            f"{counts['supplier_month_facts']:,} supplier-month facts, "
            f"{counts['transaction_facts']:,} transaction facts"
        )
        if options["check"]:
            differences = facts.compare_with_lines()
            if differences:
                for line in differences[:20]:
                    self.stderr.write(line)
                raise CommandError(f"{len(differences)} figures differ between facts and lines")
            self.stdout.write("Every figure from the facts equals the line-level computation.")
