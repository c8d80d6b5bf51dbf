"""Load benchmark of the public portal: 2,000 tenders, gunicorn, PostgreSQL, Redis, wrk.

    python manage.py benchmark_public [--database h_publicbench] [--tenders 2000]

Seeds a separate PostgreSQL database (created if missing, re-seeded every run), starts
gunicorn on a free loopback port with the Redis cache, warms each URL once, then runs
``wrk`` (Debian: ``apt-get install wrk``) against each URL and prints req/s, p50 and
p95, and each URL's share of a bare Django view's req/s measured in the same run
(docs/performance.md, "Public portal").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from rfi.models import Category, PartnerBody, Region
from rfi.services import collaboration_load
from tenders.models import Participation, TenderCase

WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "errors": %d, "non2xx": %d, '
    .. '"p50_ms": %f, "p95_ms": %f, "p99_ms": %f}\\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""

TITLES = [
    "Sutur og hæftemateriale",
    "Undersøgelseshandsker",
    "Hospitalssenge",
    "Kontorartikler",
    "Infusionspumper",
    "Rengøringsmidler",
    "Tolkeydelser",
    "Patienttransport",
    "Laboratorieudstyr",
    "Kanyler og sprøjter",
    "Sårplejeprodukter",
    "IT-hardware",
    "Arbejdstøj",
    "Fødevarer til hospitalskøkkener",
    "Dialyseudstyr",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = "Seed N publishable tenders into a separate database and load-test the portal."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="h_publicbench")
        parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
        parser.add_argument("--redis", default="redis://127.0.0.1:6379/7")
        parser.add_argument("--tenders", type=int, default=2000)
        parser.add_argument("--workers", type=int, default=4)
        parser.add_argument("--connections", type=int, default=32)
        parser.add_argument("--duration", type=int, default=10, help="seconds per URL")
        parser.add_argument("--skip-seed", action="store_true")
        parser.add_argument("--seed-only", action="store_true", help=argparse_hidden())

    def handle(self, *args, **options):
        if options["seed_only"]:
            self._seed(options["tenders"])
            return
        if not shutil.which("wrk"):
            raise CommandError("wrk is missing: apt-get install wrk")
        database_url = f"{options['postgres']}/{options['database']}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": options["redis"],
            "CELERY_BROKER_URL": "",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        }
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        if not options["skip_seed"]:
            self._create_database(options["postgres"], options["database"])
            self.stdout.write(f"Migrating and seeding {options['database']} …")
            subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
            subprocess.run(
                [*manage, "benchmark_public", "--seed-only", f"--tenders={options['tenders']}"],
                env=env,
                check=True,
            )
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True)
        subprocess.run(
            ["redis-cli", "-u", options["redis"], "flushdb"], check=False, capture_output=True
        )
        reference = self._sample_reference(manage, env)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "scripts.bench_public_wsgi:application",
                f"--workers={options['workers']}",
                f"--bind=127.0.0.1:{port}",
                "--log-level=warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            start_new_session=True,
        )
        try:
            self._wait_for(f"{base}/bench-bare/")
            urls = {
                "listing /udbud/": "/udbud/",
                "listing, filtered": "/udbud/?tab=current&region=RM&sort=-start",
                "detail": f"/udbud/{reference}/",
                "region page": "/udbud/region/RSD/",
                "timeline": "/udbud/tidslinje/",
                "RSS": "/udbud/feed.rss",
                "iCal": "/udbud/kalender.ics",
                "CSV": "/udbud/udbud.csv",
                "OCDS": "/udbud/ocds.json",
            }
            results = self._run_all(base, urls, options)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        self._report(results, options)

    # Seeding -------------------------------------------------------------------------------

    def _create_database(self, postgres: str, name: str) -> None:
        with psycopg.connect(f"{postgres}/postgres", autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')

    def _seed(self, count: int) -> None:
        collaboration_load(path=settings.COLLABORATION_FILE)
        if not Category.objects.exists():
            with open(os.devnull, "w") as devnull:
                call_command("load_cpv", stdout=devnull)
        rng = random.Random(2026)
        regions = list(Region.objects.filter(active=True))
        partners = list(PartnerBody.objects.filter(code__in=["SKI", "AMGROS"]))
        categories = list(
            Category.objects.filter(level__in=[3, 4, 5], code__regex=r"^(33|30|39|50|79|85)")
        )
        today = timezone.localdate()
        status = TenderCase.Status
        with transaction.atomic():
            TenderCase.objects.filter(reference__startswith="BENCH-").delete()
            TenderCase.history.filter(reference__startswith="BENCH-").delete()
            tenders = []
            # The requested number of publishable cases, plus 5 % internal ones beside them.
            for number in range(count + count // 20):
                start = today + dt.timedelta(days=rng.randint(-5 * 365, 5 * 365))
                publication = start + dt.timedelta(days=rng.randint(30, 120))
                award = publication + dt.timedelta(days=rng.randint(60, 150))
                contract_start = award + dt.timedelta(days=rng.randint(30, 90))
                contract_end = contract_start + dt.timedelta(days=365 * rng.randint(2, 4))
                if publication > today:
                    state, publication_date, award_date = status.PLANNED, None, None
                elif award > today:
                    state, publication_date, award_date = status.IN_TENDER, publication, None
                elif contract_end > today:
                    state, publication_date, award_date = status.IN_CONTRACT, publication, award
                else:
                    state, publication_date, award_date = status.ENDED, publication, award
                lead_partner = rng.choice(partners) if rng.random() < 0.05 else None
                title = f"{rng.choice(TITLES)} {start.year} ({number + 1})"
                tenders.append(
                    TenderCase(
                        reference=f"BENCH-{start.year}-{number:04d}",
                        title=title,
                        description=f"{title}: fælles udbud for regionerne. " * 6,
                        category=rng.choice(categories),
                        area=rng.choice(TenderCase.Area.values),
                        kind=rng.choice(TenderCase.Kind.values),
                        has_options=rng.random() < 0.7,
                        lead_region=None if lead_partner else rng.choice(regions),
                        lead_partner=lead_partner,
                        status=state,
                        expected_tender_start=start,
                        publication_date=publication_date,
                        award_date=award_date,
                        contract_start=contract_start if award_date else None,
                        contract_end=contract_end if award_date else None,
                        estimated_annual_value=Decimal(rng.randint(1, 200) * 250_000),
                        internal_notes="internal",
                        is_publishable=number < count,
                    )
                )
            bulk_create_with_history(tenders, TenderCase, batch_size=500)
            choices = [Participation.Status.FULL] * 6 + [
                Participation.Status.OPTION,
                Participation.Status.OPTED_OUT,
                Participation.Status.PENDING,
            ]
            participations = [
                Participation(
                    tender=tender,
                    region=region,
                    status=Participation.Status.FULL
                    if region.pk == tender.lead_region_id
                    else rng.choice(choices),
                )
                for tender in TenderCase.objects.filter(reference__startswith="BENCH-")
                for region in regions
            ]
            bulk_create_with_history(participations, Participation, batch_size=1000)
        self.stdout.write(
            f"{TenderCase.objects.filter(is_publishable=True).count()} publishable tenders, "
            f"{len(participations)} participations"
        )

    def _sample_reference(self, manage, env) -> str:
        code = (
            "from tenders.models import TenderCase;"
            "print(TenderCase.objects.filter(is_publishable=True, status='planned')"
            ".order_by('reference').values_list('reference', flat=True).first())"
        )
        found = subprocess.run(
            [*manage, "shell", "-c", code], env=env, check=True, capture_output=True, text=True
        )
        return found.stdout.strip().splitlines()[-1]

    # Load ----------------------------------------------------------------------------------

    def _wait_for(self, url: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        raise CommandError(f"gunicorn did not answer {url} within 60 s")

    def _wrk(self, script: str, url: str, options) -> dict:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{options['connections']}",
                f"-d{options['duration']}s",
                "-s",
                script,
                # As browsers, feed readers and calendar clients do.
                "-H",
                "Accept-Encoding: gzip",
                # As the TLS proxy forwards every request (issue 17).
                "-H",
                "X-Forwarded-Proto: https",
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        stats = json.loads(out.strip().splitlines()[-1])
        stats["rps"] = stats["requests"] / stats["seconds"]
        return stats

    def _run_all(self, base: str, urls: dict[str, str], options) -> list[dict]:
        """Each URL right after a run of the bare view: the ratio of the two is what
        counts on a shared machine whose load drifts within a minute."""
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT)
        results = []
        try:
            for label, path in urls.items():
                try:
                    with urllib.request.urlopen(base + path, timeout=30) as response:
                        first = response.status
                        size = len(response.read())
                except urllib.error.HTTPError as error:
                    self.stdout.write(f"skipping {label} ({path}): HTTP {error.code}")
                    continue
                bare = self._wrk(script.name, f"{base}/bench-bare/", options)
                stats = self._wrk(script.name, base + path, options)
                stats.update(label=label, path=path, status=first, bytes=size, bare=bare)
                results.append(stats)
                self.stdout.write(
                    f"{label:<20} {stats['rps']:>8.0f} req/s  p95 {stats['p95_ms']:6.1f} ms"
                    f"   (bare just before: {bare['rps']:.0f} req/s, p95 {bare['p95_ms']:.1f} ms)"
                )
        finally:
            os.unlink(script.name)
        return results

    def _report(self, results: list[dict], options) -> None:
        self.stdout.write("")
        self.stdout.write(
            f"{options['tenders']} tenders, gunicorn {options['workers']} sync workers, "
            f"wrk -t2 -c{options['connections']} -d{options['duration']}s, PostgreSQL + Redis"
        )
        header = (
            f"| {'URL':<42} | {'req/s':>7} | {'p50 ms':>6} | {'p95 ms':>6} | {'errors':>6} "
            f"| {'KB':>6} | {'bare req/s':>10} | {'bare p95':>8} | {'% of bare':>9} |"
        )
        self.stdout.write(header)
        self.stdout.write("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
        for r in results:
            bare = r["bare"]
            self.stdout.write(
                f"| {r['path']:<42} | {r['rps']:>7.0f} | {r['p50_ms']:>6.1f} "
                f"| {r['p95_ms']:>6.1f} | {r['errors'] + r['non2xx']:>6} "
                f"| {r['bytes'] / 1024:>6.1f} | {bare['rps']:>10.0f} | {bare['p95_ms']:>8.1f} "
                f"| {100 * r['rps'] / bare['rps']:>7.0f} % |"
            )


def argparse_hidden():
    return argparse.SUPPRESS
