"""python manage.py kpi_report --year Y --format json|csv"""

from __future__ import annotations

import json
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from kpi import definitions, selectors
from rfi.spreadsheet import write

FIELDS = ("key", "region", "period", "value", "target", "unit", "available", "reason", "strategy")


def _number(value: Decimal | None):
    """A JSON number: ints for whole values, else floats (ratios 0..1, money in DKK)."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def report_rows(*, year: int, period_kind: str | None = definitions.YEAR) -> list[dict]:
    """One row per current snapshot of the year, in the registry's order of keys.

    ``target`` is the target of the strategy in force that year and ``strategy`` its code;
    both are null for a year outside every strategy.
    """
    strategy = selectors.strategy_for_year(year)
    targets = {t.key: t for t in strategy.targets.all()} if strategy is not None else {}
    order = {key: n for n, key in enumerate(definitions.KEYS)}
    snapshots = sorted(
        selectors.snapshots_for(year=year, period_kind=period_kind),
        key=lambda s: (
            order[s.key],
            s.region.code if s.region_id else "",
            s.period_kind,
            s.period_start,
        ),
    )
    rows = []
    for snapshot in snapshots:
        target = targets.get(snapshot.key)
        rows.append(
            {
                "key": snapshot.key,
                "region": snapshot.region.code if snapshot.region_id else None,
                "period": snapshot.period_label,
                "value": _number(snapshot.value) if snapshot.available else None,
                "target": _number(target.value) if target else None,
                "unit": definitions.get(snapshot.key).unit,
                "available": snapshot.available,
                "reason": "" if snapshot.available else snapshot.reason,
                "strategy": strategy.code if strategy is not None else None,
            }
        )
    return rows


class Command(BaseCommand):
    help = (
        "Print every stored KPI figure of a year as rows {key, region, period, value, target, "
        "unit, available, reason, strategy}: region is the region code or null for the "
        "collaboration, ratios are fractions 0..1, money is in DKK; target and strategy (its "
        "code) come from the strategy in force that year, null outside every strategy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--format", choices=("json", "csv"), default="json")
        parser.add_argument(
            "--periods",
            choices=("year", "quarter", "month", "all"),
            default="year",
            help="which periods of the year (default: the year itself)",
        )

    def handle(self, *args, **options):
        year = options["year"]
        periods = options["periods"]
        rows = report_rows(year=year, period_kind=None if periods == "all" else periods)
        if not rows:
            raise CommandError(
                f"No KPI figures for {year}: run `python manage.py recompute_kpis` first "
                f"(or there are no ledger lines or tenders for that year)."
            )
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        writer = write.CsvWriter(self.stdout, lineterminator="\n")
        writer.writerow(FIELDS)
        for row in rows:
            writer.writerow(
                [
                    {
                        **row,
                        "region": row["region"] or "",
                        "value": "" if row["value"] is None else row["value"],
                        "target": "" if row["target"] is None else row["target"],
                        "strategy": row["strategy"] or "",
                        "available": "true" if row["available"] else "false",
                    }[name]
                    for name in FIELDS
                ]
            )
