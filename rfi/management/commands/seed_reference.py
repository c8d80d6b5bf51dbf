from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from rfi.services import collaboration_load
from tenders.reference import plan_reference_load


class Command(BaseCommand):
    help = "Load the reference data only: regions, partner bodies, the CPV tree (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--collaboration",
            default=str(settings.COLLABORATION_FILE),
            help="JSON file with the collaboration's regions and partner bodies",
        )

    def handle(self, *args, **options):
        result = collaboration_load(path=options["collaboration"])
        self.stdout.write(
            f"Regions and partner bodies: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )
        call_command("load_cpv", stdout=self.stdout)
        plan = plan_reference_load()
        self.stdout.write(
            f"Tender plan reference data (opt-out reasons, scoring criteria, savings methods, "
            f"settings): {plan.created} created, {plan.unchanged} unchanged"
        )
        # kpi sits above rfi in the import chain (rfi ← … ← kpi): imported when the command runs.
        from kpi.services import strategy_load

        strategy = strategy_load()
        self.stdout.write(
            f"Strategy {strategy.strategy} with its KPI targets and action plan: "
            f"{'created' if strategy.created else 'already there'}, "
            f"{strategy.targets_created} targets and {strategy.activities_created} activities added"
        )
