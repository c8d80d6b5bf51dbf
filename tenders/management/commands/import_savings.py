from pathlib import Path

from django.core.management.base import CommandError

from tenders import savings
from tenders.management.commands.import_fup import Command as ImportFupCommand


class Command(ImportFupCommand):
    help = (
        "Import awarded savings, on joint cases and on the regions' own contracts, from an "
        ".xlsx or .csv file (columns: see README). Every row is checked first; nothing is "
        "saved unless every row is valid."
    )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        actor = self._actor(options["user"])
        result = savings.import_savings(path.read_bytes(), path.name, actor)
        if result.errors:
            for error in result.errors:
                self.stderr.write(
                    f"row {error.row}, column “{error.column}”, value “{error.value}”: "
                    f"{error.reason}"
                )
            raise CommandError(f"{len(result.errors)} errors in {path.name}; nothing was saved.")
        self.stdout.write(f"{result.created} savings records created, {result.updated} updated")
