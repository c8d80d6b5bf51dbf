"""Set-based computation of every KPI in KPI.md: a few aggregate queries, no loop over lines.

The ledger side is five statements over the current batches' lines (the same SQL on
PostgreSQL and SQLite):

1. sums per region, month and kind of line (goods, services, works, unclassified,
   excluded): addressable spend, supplier- and category-matched spend, spend ordered
   through the purchasing system or by e-order, lines with an ordering channel;
2. spend in a covered category per region and month: a semi-join (EXISTS) on a small
   temporary table that expands each contract's category to the category ids it covers,
   so the join is an equality on (region, category) plus a date range;
3. transactions (supplier id, invoice number): one statement groups the lines once per
   region and month, regroups those rows per quarter and year (a transaction spanning two
   months counts once in their quarter), and keeps only per-supplier counts per region
   and period in a small temporary table, for spot purchases and the top-100 suppliers'
   e-order share;
4. spend at suppliers with an active joint contract per region and year (semi-join).

Tenders, participations and savings are hundreds of rows: ORM aggregations.
Everything returns plain dicts; kpi.services turns them into snapshots.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce

from rfi.cpv import significant_prefix_sql
from rfi.models import Category, PartnerBody, Region
from spend.models import ImportBatch, LedgerLine
from suppliers.models import Contract, Supplier
from tenders.models import Participation, SavingsRecord, TenderCase

GOODS, SERVICES, WORKS, UNCLASSIFIED, EXCLUDED = "g", "s", "w", "u", "x"
E_ORDER = LedgerLine.Channel.E_ORDER.value
PURCHASING_SYSTEM = LedgerLine.Channel.PURCHASING_SYSTEM.value

LINES = LedgerLine._meta.db_table
CATEGORIES = Category._meta.db_table
CONTRACTS = Contract._meta.db_table
SUPPLIERS = Supplier._meta.db_table

TEMP_COVER = "kpi_tmp_cover"
TEMP_JOINT = "kpi_tmp_joint"
TEMP_TX = "kpi_tmp_tx"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


# Money from the database: PostgreSQL sums numerics exactly; SQLite sums REALs.
def money(value) -> Decimal:
    if value is None:
        return Decimal("0.00")
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return Decimal(str(round(float(value), 2))).quantize(Decimal("0.01"))


def _month_expression(column: str) -> str:
    """yyyymm as an integer."""
    if connection.vendor == "postgresql":
        return f"(EXTRACT(YEAR FROM {column})::int * 100 + EXTRACT(MONTH FROM {column})::int)"
    return f"CAST(strftime('%%Y%%m', {column}) AS INTEGER)"


def _kind_expression(category_alias: str, line_alias: str) -> str:
    """KPI.md "Kind": divisions 03–44 and 48 goods, 45 works, 50–98 services."""
    division = f"CAST(SUBSTR({category_alias}.code, 1, 2) AS INTEGER)"
    return (
        f"CASE WHEN {line_alias}.is_excluded THEN '{EXCLUDED}' "
        f"WHEN {category_alias}.code IS NULL THEN '{UNCLASSIFIED}' "
        f"WHEN {division} = 45 THEN '{WORKS}' "
        f"WHEN {division} >= 50 THEN '{SERVICES}' "
        f"ELSE '{GOODS}' END"
    )


def _true(expression: str) -> str:
    # Booleans are 0/1 integers on SQLite and booleans on PostgreSQL; both read them in CASE.
    return f"CASE WHEN {expression} THEN 1 ELSE 0 END"


@dataclass(frozen=True)
class LineScope:
    """The lines a computation reads: current batches, optionally of one region and years."""

    batch_ids: tuple[int, ...]
    years: tuple[int, ...] | None = None  # None: every year

    def where(self, alias: str = "l") -> tuple[str, list]:
        if not self.batch_ids:
            return "1 = 0", []
        marks = ", ".join(["%s"] * len(self.batch_ids))
        sql = f"{alias}.batch_id IN ({marks})"
        params: list = list(self.batch_ids)
        if self.years:
            ranges = []
            for year in sorted(self.years):
                ranges.append(f"({alias}.posting_date BETWEEN %s AND %s)")
                params += [dt.date(year, 1, 1), dt.date(year, 12, 31)]
            sql += " AND (" + " OR ".join(ranges) + ")"
        return sql, params


def current_batches(region_ids: Iterable[int] | None = None) -> list[ImportBatch]:
    qs = ImportBatch.objects.filter(is_current=True)
    if region_ids is not None:
        qs = qs.filter(region_id__in=list(region_ids))
    return list(qs.order_by("pk").only("pk", "region_id", "period_start", "period_end"))


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params if params is not None else [])


def _drop(table: str) -> None:
    _execute(f"DROP TABLE IF EXISTS {_q(table)}")


def _temp_table(table: str, select_sql: str, params: list) -> None:
    _drop(table)
    _execute(f"CREATE TEMPORARY TABLE {_q(table)} AS {select_sql}", params)
    if connection.vendor == "postgresql":
        # Fresh temp tables have no statistics; the planner would guess them empty.
        _execute(f"ANALYZE {_q(table)}")


def drop_temp_tables() -> None:
    for table in (TEMP_COVER, TEMP_JOINT, TEMP_TX):
        _drop(table)


# 1. Sums per region, month and kind --------------------------------------------------------------


@dataclass
class Sums:
    """Additive figures of one region and one period, per kind of line."""

    lines: int = 0
    channel_lines: int = 0
    total: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    supplier_matched: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    category_matched: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    ordered_in_system: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    kind_lines: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    covered: Decimal = Decimal("0.00")
    covered_matched: Decimal = Decimal("0.00")
    covered_lines: int = 0

    def add(self, other: Sums) -> None:
        self.lines += other.lines
        self.channel_lines += other.channel_lines
        for name in ("total", "supplier_matched", "category_matched", "ordered_in_system"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for kind, value in theirs.items():
                mine[kind] += value
        for kind, value in other.kind_lines.items():
            self.kind_lines[kind] += value
        self.covered += other.covered
        self.covered_matched += other.covered_matched
        self.covered_lines += other.covered_lines

    @property
    def addressable(self) -> Decimal:
        return sum(
            (value for kind, value in self.total.items() if kind != EXCLUDED), Decimal("0.00")
        )

    @property
    def addressable_lines(self) -> int:
        return sum(n for kind, n in self.kind_lines.items() if kind != EXCLUDED)


def month_sums(scope: LineScope) -> dict[tuple[int, int], Sums]:
    """(region id, yyyymm) → Sums, from one scan of the lines plus one covered-spend scan."""
    where, params = scope.where("l")
    month = _month_expression("l.posting_date")
    kind = _kind_expression("k", "l")
    sql = f"""
        SELECT l.region_id, {month} AS ym, {kind} AS kind,
               COUNT(*),
               SUM({_true("l.order_channel <> ''")}),
               SUM(l.amount),
               SUM(CASE WHEN l.supplier_matched THEN l.amount ELSE 0 END),
               SUM(CASE WHEN l.category_matched THEN l.amount ELSE 0 END),
               SUM(CASE WHEN l.order_channel IN (%s, %s) THEN l.amount ELSE 0 END)
        FROM {_q(LINES)} l
        LEFT JOIN {_q(CATEGORIES)} k ON k.id = l.category_id
        WHERE {where}
        GROUP BY l.region_id, {month}, {kind}
    """
    result: dict[tuple[int, int], Sums] = defaultdict(Sums)
    rows = _fetch(sql, [E_ORDER, PURCHASING_SYSTEM, *params])
    for region_id, ym, kind_, n, channel_n, total, sup, cat, system in rows:
        sums = result[(region_id, int(ym))]
        sums.lines += n
        sums.channel_lines += int(channel_n or 0)
        sums.kind_lines[kind_] += n
        sums.total[kind_] += money(total)
        sums.supplier_matched[kind_] += money(sup)
        sums.category_matched[kind_] += money(cat)
        sums.ordered_in_system[kind_] += money(system)
    for (region_id, ym), (covered, matched, n) in covered_sums(scope).items():
        sums = result[(region_id, ym)]
        sums.covered += covered
        sums.covered_matched += matched
        sums.covered_lines += n
    return dict(result)


def _build_cover(region_ids: Iterable[int]) -> None:
    """Temp table: (region, category id, start, end) for every category a contract covers.

    A contract's category covers the codes starting with its significant digits (its CPV
    code with trailing zeros removed, the division kept), as in spend.matching.
    """
    ids = sorted(set(region_ids)) or [0]
    marks = ", ".join(["%s"] * len(ids))
    prefix = significant_prefix_sql("cc.code")
    # Codes are 8 digits, so "starts with the prefix" is the range prefix+000… to
    # prefix+999…, which the unique index on the code answers (digit strings of one length
    # sort the same in every collation); distinct contract periods first.
    select = f"""
        SELECT DISTINCT p.region_id AS region_id, k.id AS category_id,
               p.start_date AS start_date, p.end_date AS end_date
        FROM (
            SELECT DISTINCT c.region_id, {prefix} AS prefix, c.start_date,
                   COALESCE(c.extended_until, c.end_date) AS end_date
            FROM {_q(CONTRACTS)} c
            JOIN {_q(CATEGORIES)} cc ON cc.id = c.category_id
            WHERE c.region_id IN ({marks})
        ) p
        JOIN {_q(CATEGORIES)} k
          ON k.code BETWEEN SUBSTR(p.prefix || '00000000', 1, 8)
                        AND SUBSTR(p.prefix || '99999999', 1, 8)
    """
    _temp_table(TEMP_COVER, select, ids)
    if connection.vendor == "sqlite":
        # SQLite runs the EXISTS below as a nested loop: without this index it scans the
        # whole cover table for every line (a demo recompute took 20.8 s instead of 4.6 s).
        # PostgreSQL hashes the semi-join and needs none.
        _execute(
            f"CREATE INDEX {_q(TEMP_COVER + '_key')} ON {_q(TEMP_COVER)} (region_id, category_id)"
        )


def covered_sums(scope: LineScope) -> dict[tuple[int, int], tuple[Decimal, Decimal, int]]:
    """(region id, yyyymm) → (spend in a covered category, of it category-matched, lines)."""
    region_ids = {
        b.region_id for b in ImportBatch.objects.filter(pk__in=scope.batch_ids).only("region_id")
    }
    _build_cover(region_ids)
    where, params = scope.where("l")
    month = _month_expression("l.posting_date")
    sql = f"""
        SELECT l.region_id, {month} AS ym, SUM(l.amount),
               SUM(CASE WHEN l.category_matched THEN l.amount ELSE 0 END), COUNT(*)
        FROM {_q(LINES)} l
        WHERE {where} AND NOT l.is_excluded AND l.category_id IS NOT NULL
          AND EXISTS (
              SELECT 1 FROM {_q(TEMP_COVER)} v
              WHERE v.region_id = l.region_id AND v.category_id = l.category_id
                AND v.start_date <= l.posting_date AND v.end_date >= l.posting_date
          )
        GROUP BY l.region_id, {month}
    """
    return {
        (region_id, int(ym)): (money(total), money(matched), n)
        for region_id, ym, total, matched, n in _fetch(sql, params)
    }


# 3. Transactions ------------------------------------------------------------------------------


def build_transactions(scope: LineScope) -> None:
    """Temp table of transaction counts per region, period and supplier (one statement).

    A transaction is a distinct (supplier id, invoice number) within a region and
    period; a line without an invoice number is a transaction of its own. It is
    supplier-matched when any of its lines is, and an e-order when any of its lines was
    ordered by e-order. The lines are grouped once into transactions per month (``tm``);
    quarters and years regroup those month rows (a transaction spanning two months counts
    once in their quarter), and every period keeps only its per-supplier counts
    (transactions, e-orders, spot purchases): a few thousand rows per region and period
    instead of millions of invoices, from which ``transaction_figures`` ranks the top
    suppliers and sums the totals.
    """
    select, params = transactions_select(scope)
    _temp_table(TEMP_TX, select, params)


def transactions_select(scope: LineScope) -> tuple[str, list]:
    """The SELECT of ``build_transactions``: (region_id, kind, p, supplier_id, n, e, spot)."""
    where, params = scope.where("l")
    month = _month_expression("l.posting_date")
    invoice = (
        "CASE WHEN l.invoice_no <> '' THEN l.invoice_no ELSE '#' || CAST(l.id AS VARCHAR(20)) END"
    )
    supplier = "l.supplier_id"
    quarter = _period_expression("quarter")
    year = _period_expression("year")
    spot = "SUM(CASE WHEN total > 0 AND matched = 0 THEN 1 ELSE 0 END)"
    if connection.vendor == "postgresql":
        # Byte-wise collation for the grouping keys: the sorts compare bytes instead of
        # calling strcoll (equality is the same, so the groups are too).
        supplier, invoice = f'{supplier} COLLATE "C"', f'({invoice}) COLLATE "C"'
        # One scan of the month rows feeds both regroupings.
        regrouped = f"""
            SELECT region_id, CASE WHEN GROUPING(q) = 0 THEN 'q' ELSE 'y' END AS kind,
                   COALESCE(q, y) AS p, supplier_id, SUM(total) AS total,
                   MAX(matched) AS matched, MAX(e_order) AS e_order
            FROM (SELECT tm.*, {quarter} AS q, {year} AS y FROM tm) tmq
            GROUP BY region_id, supplier_id, invoice, GROUPING SETS ((q), (y))
        """
        materialized = "MATERIALIZED"
    else:
        regrouped = f"""
            SELECT region_id, 'q' AS kind, {quarter} AS p, supplier_id, SUM(total) AS total,
                   MAX(matched) AS matched, MAX(e_order) AS e_order
            FROM tm GROUP BY region_id, {quarter}, supplier_id, invoice
            UNION ALL
            SELECT region_id, 'y', {year}, supplier_id, SUM(total), MAX(matched), MAX(e_order)
            FROM tm GROUP BY region_id, {year}, supplier_id, invoice
        """
        materialized = ""
    # Months count the month rows per supplier straight away; quarters and years count
    # the regrouped rows (each branch aggregates on its own: one aggregation over the
    # union of ten million rows would be sorted as a whole).
    select = f"""
        WITH tm AS {materialized} (
            SELECT l.region_id AS region_id, {month} AS ym, {supplier} AS supplier_id,
                   {invoice} AS invoice, SUM(l.amount) AS total,
                   MAX({_true("l.supplier_matched")}) AS matched,
                   MAX({_true("l.order_channel = %s")}) AS e_order
            FROM {_q(LINES)} l
            WHERE {where} AND NOT l.is_excluded
            GROUP BY l.region_id, {month}, {supplier}, {invoice}
        )
        SELECT region_id, 'm' AS kind, ym AS p, supplier_id, COUNT(*) AS n,
               SUM(e_order) AS e, {spot} AS spot
        FROM tm GROUP BY region_id, ym, supplier_id
        UNION ALL
        SELECT region_id, kind, p, supplier_id, COUNT(*), SUM(e_order), {spot}
        FROM ({regrouped}) periods
        GROUP BY region_id, kind, p, supplier_id
    """
    return select, [E_ORDER, *params]


def _period_expression(kind: str) -> str:
    """The period key of a yyyymm: yyyymm (month), yyyyq (quarter) or yyyy (year)."""
    if kind == "month":
        return "ym"
    if kind == "quarter":
        return "((ym / 100) * 10 + ((ym - (ym / 100) * 100) + 2) / 3)"
    return "(ym / 100)"


@dataclass
class TransactionFigures:
    spot: int = 0
    transactions: int = 0
    top_transactions: int = 0
    top_e_order: int = 0
    top_suppliers: int = 0


def transaction_figures(
    kind: str, top: int = 100, *, source: tuple[str, list] | None = None
) -> dict[tuple[int, int], TransactionFigures]:
    """(region id, period key) → spot purchases and the top suppliers' e-order counts.

    Reads the per-supplier counts of ``build_transactions`` (or ``source``: a SELECT of
    the same columns, kpi.facts); ties at the last place go to the lower supplier id, so
    the figure is reproducible.
    """
    table, source_params = source if source else (_q(TEMP_TX), [])
    sql = f"""
        SELECT region_id, p, SUM(n), SUM(spot),
               SUM(CASE WHEN position <= %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN position <= %s THEN n ELSE 0 END),
               SUM(CASE WHEN position <= %s THEN e ELSE 0 END)
        FROM (
            SELECT region_id, p, n, e, spot,
                   ROW_NUMBER() OVER (
                       PARTITION BY region_id, p ORDER BY n DESC, supplier_id
                   ) AS position
            FROM {table} tx WHERE kind = %s
        ) ranked
        GROUP BY region_id, p
    """
    result: dict[tuple[int, int], TransactionFigures] = {}
    rows = _fetch(sql, [top, top, top, *source_params, kind[0]])
    for region_id, key, n, spot, suppliers, top_n, top_e in rows:
        result[(region_id, int(key))] = TransactionFigures(
            spot=int(spot or 0),
            transactions=int(n or 0),
            top_transactions=int(top_n or 0),
            top_e_order=int(top_e or 0),
            top_suppliers=int(suppliers or 0),
        )
    return result


# 4. Joint contracts -----------------------------------------------------------------------------


def joint_tenders() -> dict[int, set[int]]:
    """Joint tenders (KPI.md "Joint contract") → the ids of their participating regions.

    Participating: the lead region, and every region with full participation or an
    exercised option. Joint: at least two such regions, not led by the medicine body.
    Whether a tender is joint is judged on today's participations (docs/kpi.md).
    """
    medicine = PartnerBody.objects.filter(pk=OuterRef("lead_partner_id"), is_medicine_body=True)
    tenders = TenderCase.objects.exclude(Exists(medicine)).values_list("pk", "lead_region_id")
    taking_part = (
        Participation.objects.filter(
            Q(status=Participation.Status.FULL)
            | Q(status=Participation.Status.OPTION, option_exercised_on__isnull=False)
        )
        .values_list("tender_id", "region_id")
        .order_by()
    )
    regions: dict[int, set[int]] = {pk: ({lead} if lead else set()) for pk, lead in tenders}
    for tender_id, region_id in taking_part:
        if tender_id in regions:
            regions[tender_id].add(region_id)
    return {pk: ids for pk, ids in regions.items() if len(ids) >= 2}


def joint_spend(
    scope: LineScope, joint_tender_ids: Iterable[int]
) -> dict[tuple[int, int], Decimal]:
    """(region id, year) → addressable spend supplier-matched to an active joint contract."""
    ids = sorted(joint_tender_ids) or [0]
    marks = ", ".join(["%s"] * len(ids))
    select = f"""
        SELECT DISTINCT c.region_id AS region_id, s.identifier AS supplier_id,
               c.start_date AS start_date,
               COALESCE(c.extended_until, c.end_date) AS end_date
        FROM {_q(CONTRACTS)} c JOIN {_q(SUPPLIERS)} s ON s.id = c.supplier_id
        WHERE c.tender_id IN ({marks})
    """
    _temp_table(TEMP_JOINT, select, ids)
    where, params = scope.where("l")
    month = _month_expression("l.posting_date")
    sql = f"""
        SELECT l.region_id, {month} / 100 AS y, SUM(l.amount)
        FROM {_q(LINES)} l
        WHERE {where} AND NOT l.is_excluded AND l.supplier_matched
          AND EXISTS (
              SELECT 1 FROM {_q(TEMP_JOINT)} j
              WHERE j.region_id = l.region_id AND j.supplier_id = l.supplier_id
                AND j.start_date <= l.posting_date AND j.end_date >= l.posting_date
          )
        GROUP BY l.region_id, {month} / 100
    """
    return {(region_id, int(y)): money(total) for region_id, y, total in _fetch(sql, params)}


# Tenders and savings (hundreds of rows) -----------------------------------------------------------

STARTED = (
    TenderCase.Status.IN_TENDER,
    TenderCase.Status.IN_CONTRACT,
    TenderCase.Status.ENDED,
)


@dataclass(frozen=True)
class TenderRow:
    pk: int
    kind: str
    has_options: bool
    status: str
    division: int
    start: dt.date | None
    end: dt.date | None
    award: dt.date | None
    regions: frozenset[int]

    @property
    def is_services(self) -> bool:
        return self.division >= 50

    def started_between(self, first: dt.date, last: dt.date) -> bool:
        return self.status in STARTED and self.start is not None and first <= self.start <= last

    def in_plan_during(self, first: dt.date, last: dt.date) -> bool:
        if self.status == TenderCase.Status.CANCELLED or self.start is None:
            return False
        return self.start <= last and (self.end is None or self.end >= first)


def joint_tender_rows(joint: dict[int, set[int]]) -> list[TenderRow]:
    rows = TenderCase.objects.filter(pk__in=list(joint)).values_list(
        "pk",
        "kind",
        "has_options",
        "status",
        "category__code",
        "publication_date",
        "expected_tender_start",
        "contract_end",
        "extension_until",
        "award_date",
    )
    return [
        TenderRow(
            pk=pk,
            kind=kind,
            has_options=has_options,
            status=status,
            division=int(code[:2]),
            start=published or expected,
            end=extension or end,
            award=award,
            regions=frozenset(joint[pk]),
        )
        for pk, kind, has_options, status, code, published, expected, end, extension, award in rows
    ]


def savings_by_tender(tender_ids: Iterable[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Tender id → (Σ baseline annual cost, Σ annual saving) of its awarded savings records."""
    rows = (
        SavingsRecord.objects.filter(
            tender_id__in=list(tender_ids),
            baseline_annual_cost__gt=0,
            stage__in=SavingsRecord.COUNTED_STAGES,
        )
        .values("tender_id")
        .annotate(
            baseline=Sum("baseline_annual_cost"),
            saving=Sum(F("baseline_annual_cost") - F("new_annual_cost")),
        )
        .order_by()
    )
    return {row["tender_id"]: (money(row["baseline"]), money(row["saving"])) for row in rows}


def savings_active(
    year: int, *, since: dt.date | None = None
) -> tuple[Decimal, dict[int, Decimal], int]:
    """Σ annual saving of awarded records whose contract is active in ``year`` (and per region).

    The contract period is the record's own (contract start/end), else its tender's; a
    record without a start is left out. Tenders led by the medicine body are left out.
    Expected records are forecasts, never savings. ``since``: only contracts that started on
    or after that day (the strategy's first day: its target counts new savings).
    """
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    medicine = PartnerBody.objects.filter(
        pk=OuterRef("tender__lead_partner_id"), is_medicine_body=True
    )
    qs = (
        SavingsRecord.objects.filter(stage__in=SavingsRecord.COUNTED_STAGES)
        .exclude(Exists(medicine))
        .alias(
            start=_coalesce("contract_start", "tender__contract_start"),
            end=_coalesce("contract_end", "tender__contract_end"),
        )
        .filter(start__lte=last, **({"start__gte": since} if since else {}))
        .filter(Q(end__isnull=True) | Q(end__gte=first))
    )
    per_region = {
        row["region_id"]: money(row["saving"])
        for row in qs.values("region_id")
        .annotate(saving=Sum(F("baseline_annual_cost") - F("new_annual_cost")))
        .order_by()
    }
    return sum(per_region.values(), Decimal("0.00")), per_region, qs.count()


def _coalesce(*names: str):
    return Coalesce(*names)


def savings_exist() -> bool:
    """Whether any saving has been awarded (expected records are forecasts)."""
    return SavingsRecord.objects.filter(stage__in=SavingsRecord.COUNTED_STAGES).exists()


def active_region_ids() -> list[int]:
    return list(Region.objects.filter(active=True).order_by("code").values_list("pk", flat=True))


def tender_years() -> list[int]:
    """Years in which a tender started, was awarded or a savings record's contract began."""
    years: set[int] = set()
    for name in ("publication_date", "expected_tender_start", "award_date"):
        years.update(
            d.year
            for d in TenderCase.objects.exclude(**{f"{name}__isnull": True})
            .values_list(name, flat=True)
            .distinct()
        )
    years.update(
        d.year
        for d in SavingsRecord.objects.exclude(contract_start__isnull=True)
        .values_list("contract_start", flat=True)
        .distinct()
    )
    return sorted(years)
