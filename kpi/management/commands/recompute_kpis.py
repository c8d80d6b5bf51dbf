"""python manage.py recompute_kpis [--year Y] [--region CODE]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from kpi.services import kpi_recompute
from rfi.models import Region


class Command(BaseCommand):
    help = (
        "Recompute the strategy KPIs from the current ledger lines, contracts, tenders and "
        "savings, and store them as the current snapshots (what the nightly job does)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="only this year's periods (default: all)")
        parser.add_argument(
            "--region", help="only this region's KPIs (region code) and the collaboration's"
        )

    def handle(self, *args, **options):
        year = options.get("year")
        if year is not None and not 1900 <= year <= 2999:
            raise CommandError(f"--year {year}: give a calendar year such as 2025.")
        region = None
        if options.get("region"):
            code = options["region"].strip()
            region = Region.objects.filter(code__iexact=code).first()
            if region is None:
                known = ", ".join(Region.objects.order_by("code").values_list("code", flat=True))
                raise CommandError(f"--region {code}: no such region (known: {known or 'none'}).")
        run = kpi_recompute(region=region, year=year)
        available = run.snapshots.filter(available=True).count()
        self.stdout.write(
            f"KPI run {run.pk}: {run.snapshot_count} figures "
            f"({available} available, {run.snapshot_count - available} not available) "
            f"in {run.duration_ms / 1000:.2f} s"
        )
