import datetime as dt
import json
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rfi.spreadsheet import write
from tenders import selectors
from tenders.models import TenderCase

PHASES = ("upcoming_current", "in_contract")


def _number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        return round(value, 2)
    return value


def overview(*, as_of: dt.date | None = None) -> dict:
    """The status report with the keys documented in the README ("fup_overview JSON keys")."""
    today = timezone.localdate()
    report = selectors.status_report(as_of=as_of, today=today)
    data = {
        "generated_on": today.isoformat(),
        "as_of": report["as_of"].isoformat(),
        "horizon_end": report["horizon_end"].isoformat(),
        "currency": settings.CURRENCY,
        "tenders": report["tenders"],
        "annual_value": _number(report["annual_value"]),
        "regions_per_tender": _number(report["regions_per_tender"]),
        "tenders_per_region": _number(report["tenders_per_region"]),
    }
    for phase in PHASES:
        data[phase] = {
            area: {
                "tenders": report["cells"][f"{phase}.{area}"]["tenders"],
                "annual_value": _number(report["cells"][f"{phase}.{area}"]["annual_value"]),
            }
            for area in TenderCase.Area.values
        }
    data["per_region"] = dict(sorted(report["per_region"].items()))
    return data


def flatten(data: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows.extend(flatten(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


class Command(BaseCommand):
    help = (
        "Print the status report of the joint tender plan: tenders and annual contract sums by "
        "phase and area, regions per tender, tenders per region (keys: see README). Joint "
        "tenders only; upcoming cases up to the end of next year (docs/status-report.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument(
            "--as-of",
            dest="as_of",
            metavar="YYYY-MM-DD",
            help="the report as the plan stood at the end of that day, from the history",
        )

    def handle(self, *args, **options):
        as_of = None
        if options.get("as_of"):
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError as exc:
                raise CommandError(
                    f"--as-of {options['as_of']!r} is not a date in the form YYYY-MM-DD"
                ) from exc
            if as_of > timezone.localdate():
                raise CommandError(f"--as-of {as_of.isoformat()} is in the future")
        data = overview(as_of=as_of)
        if options["format"] == "json":
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        rows = [("key", "value"), *flatten(data)]
        self.stdout.write(write.csv_text(rows, lineterminator="\n"), ending="")
