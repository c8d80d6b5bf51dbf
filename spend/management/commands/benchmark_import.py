"""python manage.py benchmark_import --rows 1000000 (PostgreSQL; see docs/performance.md)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from rfi.models import Region
from spend.importer import binary_copy, load
from spend.models import ImportBatch
from spend.synthetic import HEADER, write_extract

FLOOR_TABLE = "bench_ledger_copy_floor"
TYPED_FLOOR_TABLE = "bench_ledger_typed_floor"
BLOCK = 1 << 20
# import_ledger with the category mapping and contract matching switched off: the
# importer's own share of the time.
WITHOUT_MAPPING = """
import sys, django
django.setup()
from django.core.management import call_command
from spend.importer import pipeline
from spend import signals
pipeline._line_annotator = lambda batch: None
pipeline.after_lines_loaded = lambda batch, annotator=None: None
signals.ledger_import_started.receivers = []
signals.ledger_switched_in.receivers = []
signals.ledger_import_started.sender_receivers_cache.clear()
signals.ledger_switched_in.sender_receivers_cache.clear()
call_command("import_ledger", *sys.argv[1:])
"""


def _runs(seconds: list[float]) -> str:
    """Each run's seconds, as the report lists them."""
    return " ".join(f"{value:.2f}" for value in seconds)


class Command(BaseCommand):
    help = (
        "Benchmark the ledger import on PostgreSQL: generate a Danish extract, time a plain "
        "COPY of it into a bare all-text table (the floor), then the end-to-end import in a "
        "separate process (its peak RSS too), and print the ratio; also lines/s on SQLite. "
        "Works in a temporary region BENCH, removed afterwards. Use a scratch database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--region", default="BENCH", help="temporary region code")
        parser.add_argument("--file", help="import this extract instead of generating one")
        parser.add_argument("--repeat", type=int, default=2, help="runs of floor and import")
        parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
        parser.add_argument("--no-replace", action="store_true", help="skip the replace run")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Run it on PostgreSQL: DATABASE_URL=postgres://… (a scratch DB)")
        rows, repeat = options["rows"], max(1, options["repeat"])
        with tempfile.TemporaryDirectory(prefix="ledger-bench-") as workdir:
            workdir = Path(workdir)
            if options["file"]:
                extract = Path(options["file"])
            else:
                extract = workdir / "extract.csv"
                started = time.perf_counter()
                write_extract(extract, rows=rows, region="RM", seed=options["seed"])
                self._line("generate the extract", f"{time.perf_counter() - started:.1f} s")
            size_mb = extract.stat().st_size / 1e6
            region, created = Region.objects.get_or_create(
                code=options["region"],
                defaults={"name_da": "Benchmark (midlertidig)", "name_en": "Benchmark (temporary)"},
            )
            try:
                floors = [self._floor(extract) for _ in range(repeat)]
                imports, bare = [], []
                lines_file = workdir / "lines.copy"
                for _ in range(repeat):
                    self._clean(region)
                    imports.append(self._import(extract, region.code))
                    if not lines_file.exists():
                        self._dump_lines(region, lines_file)
                    self._clean(region)
                    bare.append(self._import(extract, region.code, mapping=False))
                replace = None
                if not options["no_replace"]:
                    # A different file for the same period: DELETE of the old lines included.
                    second = workdir / "extract-2.csv"
                    write_extract(second, rows=rows, region="RM", seed=options["seed"] + 1)
                    replace = self._import(second, region.code)
                sqlite = None if options["no_sqlite"] else self._sqlite(extract, workdir)
                typed = [self._typed_floor(lines_file) for _ in range(repeat)]
                indexed = [self._typed_floor(lines_file, indexed=True) for _ in range(repeat)]
            finally:
                self._clean(region)
                if created:
                    region.delete()
        self._report(rows, size_mb, floors, imports, bare, replace, sqlite, typed, indexed)

    def _line(self, what: str, value: str) -> None:
        self.stdout.write(f"  {what:.<48} {value}")

    def _dump_lines(self, region: Region, target: Path) -> None:
        """The imported lines for the typed floors: PostgreSQL's COPY text of every column
        (``target``), and the importer's binary payload of its columns (``.bin`` beside it)."""
        columns = ", ".join(binary_copy.COLUMN_NAMES)
        with connection.cursor() as cursor:
            for query, path in (
                (
                    f"COPY (SELECT l.* FROM {load.LINE_TABLE} l WHERE l.region_id = %s) TO STDOUT",
                    target,
                ),
                (
                    f"COPY (SELECT {columns} FROM {load.LINE_TABLE} WHERE region_id = %s)"
                    " TO STDOUT (FORMAT binary)",
                    target.with_suffix(".bin"),
                ),
            ):
                with path.open("wb") as out, cursor.cursor.copy(query, (region.pk,)) as copy:
                    for block in copy:
                        out.write(block)

    def _typed_floor(self, lines_file: Path, *, indexed: bool = False) -> float:
        """The issue's baseline: COPY of the same rows, already typed and normalised, into
        an equivalent bare table (the line table's columns and types, no index).

        ``indexed``: into a table like the line table with its primary key and its index on
        the batch too, in the binary format the importer sends: the server's own work for
        these lines, which no importer into this table can go under."""
        like = "INCLUDING ALL" if indexed else "INCLUDING DEFAULTS"
        if indexed:
            lines_file = lines_file.with_suffix(".bin")
            columns = ", ".join(binary_copy.COLUMN_NAMES)
            sql = f"COPY {TYPED_FLOOR_TABLE} ({columns}) FROM STDIN (FORMAT binary)"
        else:
            sql = f"COPY {TYPED_FLOOR_TABLE} FROM STDIN"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TYPED_FLOOR_TABLE}")
            cursor.execute(f"CREATE TABLE {TYPED_FLOOR_TABLE} (LIKE {load.LINE_TABLE} {like})")
            cursor.execute("CHECKPOINT")
            started = time.perf_counter()
            with (
                lines_file.open("rb") as fh,
                cursor.cursor.copy(sql) as copy,
            ):
                while block := fh.read(BLOCK):
                    copy.write(block)
            seconds = time.perf_counter() - started
            cursor.execute(f"DROP TABLE {TYPED_FLOOR_TABLE}")
        return seconds

    def _floor(self, extract: Path) -> float:
        """COPY the file as it is into an all-text table: what no importer can beat."""
        columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
            cursor.execute(f"CREATE TABLE {FLOOR_TABLE} ({columns})")
            cursor.execute("CHECKPOINT")
            started = time.perf_counter()
            with (
                extract.open("rb") as fh,
                cursor.cursor.copy(
                    f"COPY {FLOOR_TABLE} FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)"
                ) as copy,
            ):
                while block := fh.read(BLOCK):
                    copy.write(block)
            seconds = time.perf_counter() - started
            cursor.execute(f"DROP TABLE {FLOOR_TABLE}")
        return seconds

    def _import(
        self, extract: Path, region_code: str, env: dict | None = None, mapping: bool = True
    ) -> dict:
        if env is None:  # the floor also starts after a checkpoint
            with connection.cursor() as cursor:
                cursor.execute("CHECKPOINT")
        if mapping:
            command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        else:
            command = [sys.executable, "-c", WITHOUT_MAPPING]
        # --replace: the "replace" run imports a second file over the first on purpose.
        command += ["import_ledger", str(extract), "--region", region_code, "--json", "--replace"]
        if not mapping:
            command.remove("import_ledger")
        started = time.perf_counter()
        env = env or dict(os.environ, DJANGO_SETTINGS_MODULE="rfi.settings")
        # As in production, the KPI refresh an import asks for is queued for a worker, not
        # run inside the import (eager mode, without a broker, would time it as import):
        # an in-memory broker nobody consumes takes the message and forgets it.
        env = dict(env, CELERY_BROKER_URL="memory://", CELERY_RESULT_BACKEND="cache+memory://")
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            check=False,
            cwd=settings.BASE_DIR,
        )
        wall = time.perf_counter() - started
        try:
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            raise CommandError(f"import_ledger failed:\n{done.stdout}\n{done.stderr}") from None
        if result.get("status") != ImportBatch.Status.DONE:
            raise CommandError(f"import_ledger did not import: {result}")
        result["wall"] = wall
        return result

    def _sqlite(self, extract: Path, workdir: Path) -> dict:
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}")
        env["MEDIA_ROOT"] = str(workdir / "media")
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, capture_output=True)
        create = "from rfi.models import Region; Region.objects.create(code='BENCH', name_da='B')"
        subprocess.run([*manage, "shell", "-c", create], env=env, check=True, capture_output=True)
        return self._import(extract, "BENCH", env=env)

    def _clean(self, region: Region) -> None:
        for batch in ImportBatch.objects.filter(region=region):
            load.delete_lines(batch.pk)
            if batch.file and batch.status != ImportBatch.Status.DUPLICATE:
                batch.file.delete(save=False)
            if batch.errors_file:
                batch.errors_file.delete(save=False)
            batch.delete()
        # Vacuum now, or autovacuum starts on the deleted lines during the next measurement.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {load.LINE_TABLE}")

    def _report(self, rows, size_mb, floors, imports, bare, replace, sqlite, typed, indexed):
        floor = min(floors)
        best = min(imports, key=lambda result: result["seconds"])
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        self.stdout.write(
            f"Ledger import, {rows:,} lines ({size_mb:.0f} MB Danish CSV), PostgreSQL {version}"
        )
        runs = _runs(floors)
        self._line(
            "floor: COPY into an all-text table",
            f"{floor:.2f} s ({rows / floor:,.0f} lines/s; runs {runs})",
        )
        runs = _runs([result["seconds"] for result in imports])
        self._line(
            "end-to-end import (create + process)",
            f"{best['seconds']:.2f} s ({rows / best['seconds']:,.0f} lines/s; runs {runs})",
        )
        self._line(
            "ratio import / floor",
            f"{best['seconds'] / floor:.2f} × (shared/PERFORMANCE.md: ≤ 2 ×, stretch 1.5 ×)",
        )
        typed_floor = min(typed)
        runs = _runs(typed)
        self._line(
            "COPY of the typed rows into a bare line table",
            f"{typed_floor:.2f} s (runs {runs}): the issue's baseline",
        )
        self._line(
            "ratio import / typed COPY",
            f"{best['seconds'] / typed_floor:.2f} × (issue: ≤ 3 ×)",
        )
        server = min(indexed)
        runs = _runs(indexed)
        self._line(
            "binary COPY into a keyed, indexed line table",
            f"{server:.2f} s = {server / floor:.2f} × the floor (runs {runs}): the server's own work",
        )
        self._line(
            "ratio import / keyed, indexed COPY",
            f"{best['seconds'] / server:.2f} × (what the importer adds to the server's work)",
        )
        mapping = best.get("mapping_seconds", 0)
        if mapping:
            self._line(
                "of which category mapping and matching",
                f"{mapping:.2f} s in Python (the rest of the import overlaps the COPY)",
            )
        facts = best.get("facts_seconds", 0)
        if facts:
            self._line(
                "of which the KPI facts (kpi.import_facts)",
                f"{facts:.2f} s: aggregating the chunks as they stream and writing the facts",
            )
        plain = min(bare, key=lambda result: result["seconds"])
        runs = _runs([result["seconds"] for result in bare])
        self._line(
            "import without mapping, matching and KPI facts",
            f"{plain['seconds']:.2f} s, {plain['seconds'] / floor:.2f} × the floor (runs {runs})",
        )
        peak = max(result["peak_rss_mb"] for result in imports)
        self._line(
            "peak RSS of the importing process",
            f"{peak:,.0f} MB (shared/PERFORMANCE.md: ≤ 1,000 MB)",
        )
        if replace:
            self._line(
                "replacing the period (DELETE old lines too)",
                f"{replace['seconds']:.2f} s ({replace['seconds'] / floor:.2f} × the floor)",
            )
        if sqlite:
            self._line(
                "SQLite end-to-end import",
                f"{sqlite['seconds']:.2f} s ({rows / sqlite['seconds']:,.0f} lines/s; "
                f"target ≥ 50,000), peak RSS {sqlite['peak_rss_mb']:,.0f} MB",
            )
