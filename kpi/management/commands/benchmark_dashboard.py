"""Time the KPI dashboards against the current snapshots: median and p95 server time.

    python manage.py benchmark_dashboard [--requests 50] [--region RM] [--year 2025]

Each page is rendered ``--requests`` times in process through Django's test client (the
whole request: middleware, the snapshot queries, templates), signed in as a temporary
secretariat account that is deleted afterwards. The dashboards read stored snapshots
only, so the time does not grow with the number of ledger lines; the line count is
printed beside it to show that.
"""

from __future__ import annotations

import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from kpi import selectors
from kpi.models import KpiSnapshot
from rfi.models import Region
from spend.models import LedgerLine

TARGET_MS = 150.0
USERNAME = "benchmark-dashboard"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class Command(BaseCommand):
    help = "Time the KPI dashboards (median and p95 over N requests) against current snapshots."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=50)
        parser.add_argument("--region", help="Region code (default: the first region)")
        parser.add_argument("--year", type=int, help="Year (default: the newest with figures)")

    def handle(self, *args, **options):
        count = options["requests"]
        if count < 1:
            raise CommandError("--requests must be at least 1.")
        region = Region.objects.filter(active=True).order_by("code").first()
        if options["region"]:
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                raise CommandError(f"No region with the code {options['region']!r}.")
        if region is None:
            raise CommandError("No regions: run seed_reference first.")
        years = selectors.years_available()
        year = options["year"] or (years[0] if years else None)
        if year is None:
            self.stderr.write("No KPI snapshots yet: timing the empty dashboards.")
            year = 2025

        user_model = get_user_model()
        user_model.objects.filter(username=USERNAME).delete()
        user = user_model.objects.create_user(username=USERNAME, is_staff=True)
        try:
            client = Client()
            client.force_login(user)
            pages = [
                ("region dashboard", reverse("kpi:index"), {"region": region.code, "year": year}),
                ("collaboration", reverse("kpi:collaboration"), {"year": year}),
                ("monthly report", reverse("kpi:report"), {"region": region.code}),
            ]
            self.stdout.write(
                f"Current snapshots: {KpiSnapshot.objects.filter(is_current=True).count():,}; "
                f"ledger lines: {LedgerLine.objects.count():,}; "
                f"database: {connection.vendor}; region {region.code}, year {year}; "
                f"{count} requests per page"
            )
            for name, url, params in pages:
                self._time_page(client, name, url, params, count)
        finally:
            user.delete()

    def _time_page(self, client: Client, name: str, url: str, params: dict, count: int) -> None:
        response = client.get(url, params)  # warm up: templates, caches, connection
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        queries = []

        def record(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            client.get(url, params)
        timings, cpu = [], []
        for _ in range(count):
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(url, params)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        median = statistics.median(timings)
        p95 = _percentile(timings, 0.95)
        verdict = "OK" if median < TARGET_MS else "SLOW"
        # The CPU time of this process (the page's Python; the database's share is in the
        # wall time only): what the page costs, less what other jobs on the machine take.
        self.stdout.write(
            f"{name:18} median {median:7.1f} ms  p95 {p95:7.1f} ms  "
            f"CPU median {statistics.median(cpu):6.1f} ms  "
            f"queries {len(queries):3d}  ({verdict}: target median < {TARGET_MS:.0f} ms)"
        )
