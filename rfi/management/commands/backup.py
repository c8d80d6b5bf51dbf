from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rfi.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database and the uploaded files as one pair, into a new folder named by "
        "the UTC time, with a manifest of SHA-256 sums (docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--root",
            default=str(settings.BACKUP_ROOT),
            help="folder in which the backup's folder is made (default: BACKUP_ROOT)",
        )

    def handle(self, *args, **options):
        try:
            folder = backup_create(root=Path(options["root"]))
        except BackupError as error:
            raise CommandError(str(error)) from error
        # The folder alone on the last line: scripts (cron, the upgrade steps) read it.
        self.stdout.write(str(folder))
