from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rfi.backup import BackupError, backup_restore, backup_verify


class Command(BaseCommand):
    help = (
        "Restore the database and the uploaded files from a backup folder (manage.py backup). "
        "Replaces everything: stop the web, worker and beat first (docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="the backup's folder (holds manifest.json)")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="really replace the database and the uploaded files",
        )

    def handle(self, *args, **options):
        folder = Path(options["folder"])
        try:
            manifest = backup_verify(folder)
            if not options["yes"]:
                raise CommandError(
                    f"The backup of {manifest['created_at']} is intact. Restoring it replaces "
                    "the whole database and every uploaded file; run again with --yes to do so."
                )
            backup_restore(folder=folder)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored the backup of {manifest['created_at']} from {folder}")
