import json

from django.core.management.base import BaseCommand

from rfi.spreadsheet import write
from tenders import savings
from tenders.management.commands.fup_overview import _number, flatten


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return _number(value)


class Command(BaseCommand):
    help = (
        "Print a year's savings: new and active annual savings, split by origin, kind and "
        "region, realised savings per region and the price reduction per joint case "
        "(keys: see README)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, **options):
        data = _plain(savings.savings_report(options["year"]))
        if options["format"] == "json":
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        rows = [("key", "value"), *flatten(data)]
        self.stdout.write(write.csv_text(rows, lineterminator="\n"), ending="")
