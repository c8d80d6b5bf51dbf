from django.conf import settings
from django.core.management.base import BaseCommand
from django.template.defaultfilters import filesizeformat

from spend.retention import uploads_purge


class Command(BaseCommand):
    help = (
        "Delete the stored files of ledger uploads replaced more than "
        "LEDGER_SUPERSEDED_RETENTION_DAYS ago; the batch records stay and say so."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.LEDGER_SUPERSEDED_RETENTION_DAYS,
            help="keep replaced uploads this many days (default: the setting, %(default)s)",
        )

    def handle(self, *args, **options):
        result = uploads_purge(days=options["days"])
        self.stdout.write(
            f"{result.files_deleted} files deleted ({filesizeformat(result.bytes_freed)}) "
            f"of {len(result.batches)} batches: {', '.join(map(str, result.batches)) or '-'}"
        )
