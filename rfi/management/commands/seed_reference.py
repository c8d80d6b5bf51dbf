import time

from django.conf import settings
from django.core.management.base import BaseCommand

from rfi.services import categories_load_cpv, collaboration_load
from tenders.reference import plan_reference_load


class Command(BaseCommand):
    help = (
        "Add the missing reference data: regions, partner bodies, the CPV tree, the plan's "
        "reference data, the strategy. Only adds: what exists (an administrator's edits "
        "included) is left as it is. Runs on every start (docker-compose.yml, migrate); "
        "manage.py load_cpv refreshes the CPV labels from the file on purpose."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--collaboration",
            default=str(settings.COLLABORATION_FILE),
            help="JSON file with the collaboration's regions and partner bodies",
        )

    def handle(self, *args, **options):
        result = collaboration_load(path=options["collaboration"], add_only=True)
        self.stdout.write(
            f"Regions and partner bodies: {result.created} created, "
            f"{result.updated} with empty contact fields filled, {result.unchanged} kept"
        )
        started = time.perf_counter()
        cpv = categories_load_cpv(add_only=True)
        self.stdout.write(
            f"CPV: {cpv.created} created, {cpv.unchanged} kept "
            f"in {time.perf_counter() - started:.1f} s"
        )
        plan = plan_reference_load()
        self.stdout.write(
            f"Tender plan reference data (opt-out reasons, scoring criteria, savings methods, "
            f"settings): {plan.created} created, {plan.unchanged} unchanged; "
            f"scoring rubric filled for {plan.rubrics_filled} criteria"
        )
        # kpi sits above rfi in the import chain (rfi ← … ← kpi): imported when the command runs.
        from kpi.services import strategy_load

        strategy = strategy_load()
        self.stdout.write(
            f"Strategy {strategy.strategy} with its KPI targets and action plan: "
            f"{'created' if strategy.created else 'already there'}, "
            f"{strategy.targets_created} targets and {strategy.activities_created} activities added"
        )
