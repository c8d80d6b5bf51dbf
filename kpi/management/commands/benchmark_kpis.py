"""python manage.py benchmark_kpis [--lines-per-batch 1000000] [--reuse] [--reference]

PostgreSQL only; docs/performance.md "KPI recompute from facts".
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import NoReverseMatch, reverse

from kpi import facts
from kpi.services import kpi_recompute
from rfi.models import Category, Membership, Region
from spend.models import ImportBatch, LedgerLine
from suppliers.models import Contract, Supplier
from tenders.models import Participation, TenderCase

FILE_MARK = "benchmark-kpis"
SUPPLIERS = 3000
CONTRACTED = 800  # suppliers 0..799 hold a contract with every region


class Command(BaseCommand):
    help = (
        "Benchmark the full KPI recompute on PostgreSQL: build 5 regions × 2 years × N ledger "
        "lines straight in SQL (generate_series), time a plain sum(amount) GROUP BY region and "
        "month over the table (the baseline), the rebuild of the KPI facts, a full "
        "recompute, one region's refresh and the KPI page, with their ratios to the baseline. "
        "Use a scratch database: it adds regions' batches, suppliers, contracts and tenders."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lines-per-batch", type=int, default=1_000_000)
        parser.add_argument("--years", default="2024,2025")
        parser.add_argument("--reuse", action="store_true", help="keep lines from a previous run")
        parser.add_argument("--requests", type=int, default=50)
        parser.add_argument(
            "--reference",
            action="store_true",
            help="also compute every figure from the lines and compare (slow: minutes at 10 M)",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Run it on PostgreSQL: DATABASE_URL=postgres://… (a scratch DB)")
        years = [int(y) for y in options["years"].split(",")]
        n = options["lines_per_batch"]
        regions = list(Region.objects.filter(active=True).order_by("code"))
        if len(regions) < 5 or not Category.objects.filter(code="33141110").exists():
            raise CommandError("Load the reference data first: python manage.py seed_reference")
        existing = ImportBatch.objects.filter(file_name=FILE_MARK, is_current=True).count()
        if options["reuse"] and existing:
            self._line("build", f"reusing {LedgerLine.objects.count():,} lines")
        else:
            started = time.perf_counter()
            self._build(regions, years, n)
            self._line("build", f"{time.perf_counter() - started:.1f} s")
        total = self._scalar("SELECT count(*) FROM spend_ledgerline")
        self._line("lines", f"{total:,}")

        # The baseline: one plain aggregation per region and month over the lines.
        baseline = self._best(
            lambda: self._scalar(
                "SELECT count(*) FROM (SELECT region_id, date_trunc('month', "
                "posting_date::timestamp), sum(amount) FROM spend_ledgerline GROUP BY 1, 2) t"
            )
        )
        self._line("baseline GROUP BY region, month", f"{baseline:.2f} s")

        def ratio(seconds: float, target: str = "") -> str:
            verdict = f" (target {target})" if target else ""
            return f"{seconds:.2f} s = {seconds / baseline:.2f} × baseline{verdict}"

        started = time.perf_counter()
        counts = facts.rebuild()
        self._line(
            "rebuild of the facts",
            ratio(time.perf_counter() - started)
            + f" ({counts['month_facts']:,} + {counts['supplier_month_facts']:,} + "
            f"{counts['transaction_facts']:,} rows)",
        )
        batch = (
            ImportBatch.objects.filter(region=regions[0], is_current=True).order_by("-pk").first()
        )
        if batch is not None:
            # What a switch-in adds to an import: the batch's facts and its year's recount.
            started = time.perf_counter()
            with transaction.atomic():
                facts.batch_switched_in(
                    batch=batch,
                    period=(batch.period_start, batch.period_end),
                    replaced=[],
                    trimmed=[],
                )
            self._line(
                f"facts of one batch ({batch.rows_loaded:,} lines)",
                ratio(time.perf_counter() - started),
            )

        started = time.perf_counter()
        run = kpi_recompute()
        full = time.perf_counter() - started
        self._line(
            f"full recompute ({run.snapshot_count:,} figures)", ratio(full, "≤ 3 × baseline")
        )
        started = time.perf_counter()
        kpi_recompute(region=regions[0])
        one = time.perf_counter() - started
        self._line(f"refresh of one region ({regions[0].code})", ratio(one, "≤ 0.5 × baseline"))
        if options["reference"]:
            self._reference(ratio)
        self._dashboard(regions, options["requests"])

    def _reference(self, ratio) -> None:
        """The line-level computation (the reference the facts equal), and the comparison."""
        started = time.perf_counter()
        differences = facts.compare_with_lines()
        self._line(
            "line-level + facts figures, compared",
            ratio(time.perf_counter() - started)
            + (f": {len(differences)} DIFFER" if differences else ": all equal"),
        )

    # Output ----------------------------------------------------------------------------------

    def _line(self, what: str, value: str) -> None:
        self.stdout.write(f"{what:<40} {value}")

    @staticmethod
    def _scalar(sql: str, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            return cursor.fetchone()[0]

    @staticmethod
    def _best(fn, repeat: int = 2) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return min(times)

    # The page --------------------------------------------------------------------------------

    def _dashboard(self, regions, requests: int) -> None:
        try:
            url = reverse("kpi:index")
        except NoReverseMatch:
            self._line("dashboard page", "TODO: no kpi:index route yet")
            return
        user, _ = get_user_model().objects.get_or_create(username="benchmark-kpi-chief")
        Membership.objects.get_or_create(user=user, region=regions[0], role=Membership.Role.CHIEF)
        with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
            client = Client()
            client.force_login(user)
            first = client.get(url)
            if first.status_code != 200:
                self._line("dashboard page", f"HTTP {first.status_code}: not timed")
                return
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - started) * 1000)
        self._line(
            f"dashboard page {url} (median of {requests})",
            f"{statistics.median(times):.1f} ms (p90 {sorted(times)[int(requests * 0.9) - 1]:.1f})",
        )

    # The data --------------------------------------------------------------------------------

    def _build(self, regions, years, n) -> None:
        """Suppliers, contracts (a fifth from joint tenders) and N lines per region and year."""
        codes = [
            "33141110",
            "33600000",
            "33100000",
            "30190000",
            "15800000",
            "48000000",
            "85100000",
            "79000000",
            "50000000",
            "45000000",
        ]
        categories = {c.code: c for c in Category.objects.filter(code__in=codes)}
        codes = [c for c in codes if c in categories]
        category_ids = [categories[c].pk for c in codes]
        with transaction.atomic():
            Supplier.objects.bulk_create(
                [
                    Supplier(identifier=f"1{i:07d}", name=f"Leverandør {i}")
                    for i in range(SUPPLIERS)
                ],
                ignore_conflicts=True,
            )
            suppliers = dict(
                Supplier.objects.filter(identifier__startswith="1").values_list("identifier", "pk")
            )
            tenders = []
            for i in range(20):
                tender = TenderCase.objects.create(
                    reference=f"BENCH-{i:03d}",
                    title=f"Benchmark {i}",
                    category=categories[codes[i % len(codes)]],
                    area=TenderCase.Area.GOODS_SERVICES,
                    kind=TenderCase.Kind.FRAMEWORK,
                    has_options=i % 3 != 0,
                    lead_region=regions[i % 5],
                    status=TenderCase.Status.IN_CONTRACT,
                    publication_date=dt.date(2016 + i % 5, 1, 1),
                    award_date=dt.date(years[-1], 1 + i % 12, 1),
                )
                Participation.objects.bulk_create(
                    [
                        Participation(tender=tender, region=r, status=Participation.Status.FULL)
                        for r in regions
                        if r != tender.lead_region
                    ]
                )
                tenders.append(tender)
            contracts = []
            for r_index, region in enumerate(regions):
                for i in range(CONTRACTED):
                    contracts.append(
                        Contract(
                            region=region,
                            supplier_id=suppliers[f"1{i:07d}"],
                            title=f"Aftale {i}",
                            category=categories[codes[(i + r_index) % len(codes)]],
                            start_date=dt.date(years[0], 1 + i % 12, 1),
                            end_date=dt.date(years[-1], 6, 30),
                            extended_until=dt.date(years[-1], 12, 31) if i % 4 == 0 else None,
                            tender=tenders[i % 20] if i % 5 == 0 else None,
                        )
                    )
            Contract.objects.bulk_create(contracts)
        ids = "ARRAY[" + ",".join(str(pk) for pk in category_ids) + "]"
        codes_array = "ARRAY[" + ",".join(f"'{c}'" for c in codes) + "]"
        for region in regions:
            for year in years:
                with transaction.atomic():
                    batch = ImportBatch.objects.create(
                        region=region,
                        period_start=dt.date(year, 1, 1),
                        period_end=dt.date(year, 12, 31),
                        source=ImportBatch.Source.COMMAND,
                        file_name=FILE_MARK,
                        sha256=f"bench-{region.code}-{year}",
                        status=ImportBatch.Status.DONE,
                        is_current=True,
                        rows_loaded=n,
                    )
                    self._insert_lines(batch, year, n, ids, codes_array, len(codes))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE spend_ledgerline")

    def _insert_lines(self, batch, year: int, n: int, ids: str, codes: str, k: int) -> None:
        # Invoices of 3 lines (the last one shorter), each at one supplier drawn Zipf-like
        # (a few carry most invoices) and ordered through one channel, as in real extracts;
        # lines of an invoice are posted on consecutive days, so some invoices span two
        # months. Log-normal amounts with 3 % credit notes, a tenth of the lines
        # unclassified. The contract flags are set by a rule on the supplier number instead
        # of the matching UPDATEs (the benchmark times the KPIs, not the matching).
        sql = f"""
            INSERT INTO spend_ledgerline (
                batch_id, region_id, row_number, posting_date, voucher_no, invoice_no,
                supplier_id, supplier_name, account, cost_centre, amount, description,
                order_channel, category_code, category_id, is_excluded, supplier_matched,
                category_matched
            )
            SELECT %(batch)s, %(region)s, g, %(start)s::date + (g %% 365), 'V' || g,
                   'F' || %(year)s || '-' || i, '1' || lpad(s::text, 7, '0'), 'Leverandør ' || s,
                   CASE WHEN g %% 50 = 0 THEN '9000' ELSE '4000' END, 'CC1',
                   round((exp(random() * 9) * CASE WHEN random() < 0.03 THEN -1 ELSE 1 END)::numeric, 2),
                   '', CASE WHEN r < 0.5 THEN 'e_order' WHEN r < 0.7 THEN 'purchasing_system'
                            ELSE 'manual' END,
                   CASE WHEN c = 0 THEN '' ELSE ({codes})[c] END,
                   CASE WHEN c = 0 THEN NULL ELSE ({ids})[c] END,
                   g %% 50 = 0, s < {CONTRACTED}, s < {CONTRACTED} AND c > 0 AND random() < 0.7
            FROM (
                SELECT i, 3 * i + j + 1 AS g, s, r,
                       CASE WHEN (3 * i + j + 1) %% 10 = 0 THEN 0
                            ELSE 1 + ((3 * i + j + 1) %% {k}) END AS c
                FROM (
                    -- random() in this subquery's target list is drawn once per invoice
                    SELECT i, floor(power(random(), 3) * {SUPPLIERS})::int AS s,
                           random() AS r
                    FROM generate_series(0, (%(n)s - 1) / 3) AS i
                ) invoices
                CROSS JOIN generate_series(0, 2) AS j
                WHERE 3 * i + j < %(n)s
            ) lines
        """
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {
                    "batch": batch.pk,
                    "region": batch.region_id,
                    "start": dt.date(year, 1, 1),
                    "year": year,
                    "n": n,
                },
            )
