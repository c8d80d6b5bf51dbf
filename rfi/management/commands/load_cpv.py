import time
from pathlib import Path

from django.core.management.base import BaseCommand

from rfi.services import CPV_FILE, categories_load_cpv


class Command(BaseCommand):
    help = "Load or refresh the CPV 2008 category tree (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(CPV_FILE), help="CPV CSV (default: bundled)")

    def handle(self, *args, **options):
        started = time.perf_counter()
        result = categories_load_cpv(path=Path(options["file"]))
        self.stdout.write(
            f"CPV: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged in {time.perf_counter() - started:.1f} s"
        )
