import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from rfi.services import demo_users_create
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

    def handle(self, *args, **options):
        call_command("seed_reference", stdout=self.stdout)
        users = demo_users_create(password=options["password"])
        self.stdout.write("")
        self.stdout.write("Demo users (username / password / role):")
        for user in users:
            note = "" if user.created else "  (already existed, password unchanged)"
            self.stdout.write(f"  {user.username:<16} {user.password:<16} {user.description}{note}")
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
