from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from tenders.excel import plan_import
from tenders.excel.importer import PLAN_MAX_UPLOAD_BYTES


class Command(BaseCommand):
    help = (
        "Import the joint tender plan from an .xlsx or .csv file in the layout of the export. "
        "Every row is checked first; nothing is saved unless every row is valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx or .csv file")
        parser.add_argument(
            "--user",
            help="username the changes are recorded under (default: the first superuser)",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        actor = self._actor(options["user"])
        if path.stat().st_size > PLAN_MAX_UPLOAD_BYTES:
            raise CommandError(
                f"{path.name}: larger than {PLAN_MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
                "nothing was saved."
            )
        try:
            result = plan_import(path.read_bytes(), path.name, actor)
        except PermissionDenied as exc:
            raise CommandError(f"{actor.get_username()}: {exc}") from exc
        if result.errors:
            for error in result.errors:
                self.stderr.write(
                    f"row {error.row}, column “{error.column}”, value “{error.value}”: "
                    f"{error.reason}"
                )
            raise CommandError(f"{len(result.errors)} errors in {path.name}; nothing was saved.")
        self.stdout.write(
            f"{result.created} tender cases created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )

    def _actor(self, username: str | None):
        users = get_user_model().objects.filter(is_active=True)
        if username:
            actor = users.filter(username=username).first()
            if actor is None:
                raise CommandError(f"no active user {username!r}")
            return actor
        actor = users.filter(is_superuser=True).order_by("pk").first()
        if actor is None:
            raise CommandError("no superuser: create one or name a user with --user")
        return actor
