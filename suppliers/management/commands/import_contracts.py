"""python manage.py import_contracts FILE [--user USERNAME]: all rows or none."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from suppliers.importer import contracts_import


class Command(BaseCommand):
    help = (
        "Import contracts from a .csv or .xlsx file (English or Danish headers). Every row is "
        "checked first; nothing is saved unless every row is valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .csv or .xlsx file")
        parser.add_argument(
            "--user",
            help="import as this user, with that user's rights (officers: own region only); "
            "without it the command line acts for the secretariat",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None or not actor.is_active:
                raise CommandError(f"No active user named {options['user']!r}")
        result = contracts_import(path.read_bytes(), path.name, actor)
        if not result.ok:
            for error in result.errors:
                where = f"row {error.row}" if error.row else "file"
                column = f", column {error.column}" if error.column else ""
                value = f" ({error.value!r})" if error.value else ""
                self.stderr.write(f"{where}{column}{value}: {error.reason}")
            raise CommandError(f"{len(result.errors)} errors in {path.name}; nothing was saved.")
        self.stdout.write(
            f"{path.name}: {result.created} contracts registered, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )
