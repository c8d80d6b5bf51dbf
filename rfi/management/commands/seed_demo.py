import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kpi.models import KpiSnapshot
from kpi.services import REFRESH_TASK as KPI_REFRESH_TASK
from kpi.services import kpi_recompute, strategy_demo_load
from rfi.services import demo_users_create
from rfi.tasks import tasks_held
from spend.demo import ROWS_PER_YEAR, LedgerDemoError, demo_periods, ledger_demo_load
from suppliers.demo import contracts_demo_load
from tenders.demo import plan_demo_load

DEFAULT_DEMO_PASSWORD = "demo-rfi-2026"


class Command(BaseCommand):
    help = "Load the reference data and add demo users (one per role per region); idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD),
            help="password for newly created demo users (existing users keep theirs)",
        )
        parser.add_argument(
            "--no-ledger",
            action="store_true",
            help="load no demo ledger lines (the spend and KPI pages stay empty)",
        )
        parser.add_argument(
            "--ledger-rows",
            type=int,
            default=int(os.environ.get("DEMO_LEDGER_ROWS", ROWS_PER_YEAR)),
            help=f"demo ledger lines per region and full year (default {ROWS_PER_YEAR:,})",
        )

    def handle(self, *args, **options):
        if options["ledger_rows"] < 1:
            raise CommandError("--ledger-rows must be at least 1")
        call_command("seed_reference", stdout=self.stdout)
        users = demo_users_create(password=options["password"])
        self.stdout.write("")
        self.stdout.write("Demo users (username / password / role):")
        for user in users:
            note = "" if user.created else "  (already existed, password unchanged)"
            self.stdout.write(f"  {user.username:<16} {user.password:<16} {user.description}{note}")
        demo_strategy, made = strategy_demo_load(
            # the demo ledger's first year: the spot-purchase reduction has a baseline
            baseline_year=demo_periods(timezone.localdate())[0][0].year
        )
        self.stdout.write(
            f"Demo strategy {demo_strategy} (baseline {demo_strategy.baseline_year}, copied "
            f"from the 2015–2020 strategy): {'created' if made else 'already there'}"
        )
        # Each load asks for a KPI refresh per region it touched; hold them back and
        # recompute once below (one line, not one per region and load).
        with tasks_held(KPI_REFRESH_TASK) as held:
            plan = plan_demo_load()
            self.stdout.write("")
            self.stdout.write(
                f"Demo tender plan: {plan.tenders} cases, {plan.savings} savings records and "
                f"{plan.candidates} candidate areas added ({plan.skipped} cases already there)"
            )
            contracts = contracts_demo_load()
            self.stdout.write(
                f"Demo contract registry: {contracts.contracts} contracts and {contracts.suppliers} "
                f"suppliers added ({contracts.skipped} contracts already there)"
            )
            ledger = None
            if not options["no_ledger"]:
                try:
                    ledger = ledger_demo_load(rows_per_year=options["ledger_rows"])
                except LedgerDemoError as error:
                    raise CommandError(f"The demo ledger was not loaded: {error}") from error
                self.stdout.write(
                    f"Demo ledger: {ledger.batches} extracts with {ledger.lines:,} lines imported "
                    f"in {ledger.seconds:.1f} s ({ledger.skipped} region-periods already had data)"
                )
        if (
            made
            or any(held.values())
            or (ledger and ledger.batches)
            or not KpiSnapshot.objects.filter(is_current=True).exists()
        ):
            run = kpi_recompute()
            self.stdout.write(
                f"KPI figures: {run.snapshot_count:,} computed in {run.duration_ms / 1000:.1f} s"
            )
        else:
            self.stdout.write("KPI figures: up to date (no new ledger lines)")
