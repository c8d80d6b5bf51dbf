"""Rollups of the ledger that every KPI is computed from (issue 17 §1; docs/kpi.md "Facts").

The ledger is written in two places: the import's switch-in and the re-matching after a
contract or rule change. spend announces both with signals (spend.signals; spend may not
import kpi) that are handled here, synchronously, in the transaction that wrote the lines:

- ``LedgerMonthFact``: per batch, month, kind, ordering channel, supplier- and
  category-matched and covered flags: number of lines and Σ amount (additive: a month's
  rows are deleted and re-inserted with one INSERT … SELECT … GROUP BY);
- ``LedgerSupplierMonthFact``: per batch, month and supplier id: Σ amount of addressable
  supplier-matched lines (the joint-agreement spend decides at computation time which
  contracts are joint, since participations change without touching the ledger);
- ``LedgerTransactionFact``: per region, period (month, quarter, year) and supplier id:
  transactions, e-orders and spot purchases. A transaction spanning two months counts
  once in their quarter, and a spot purchase is judged on its total over the period, so
  these counts are not additive over months: the years a switch-in touches are recounted
  from the region's current lines of those years.

Reading them (``month_sums``, ``transactions_source``, ``joint_spend``) gives exactly what
the line-level reference in kpi.compute gives (tests/kpi/test_facts.py compares the two on
random ledgers). ``rebuild`` recomputes everything from the lines (``rebuild_kpi_facts``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, transaction

from kpi import compute
from kpi.compute import (
    CATEGORIES,
    CONTRACTS,
    E_ORDER,
    EXCLUDED,
    LINES,
    PURCHASING_SYSTEM,
    SUPPLIERS,
    TEMP_COVER,
    LineScope,
    Sums,
    _execute,
    _fetch,
    _month_expression,
    _q,
    money,
)
from kpi.import_facts import ImportFacts
from kpi.models import LedgerMonthFact, LedgerSupplierMonthFact, LedgerTransactionFact
from spend import selectors as spend_selectors
from spend.models import ImportBatch
from suppliers.models import Contract

MONTH_FACTS = LedgerMonthFact._meta.db_table
SUPPLIER_FACTS = LedgerSupplierMonthFact._meta.db_table
TX_FACTS = LedgerTransactionFact._meta.db_table
TEMP_JOINT_MONTHS = "kpi_tmp_joint_months"
WORK_MEM = "64MB"


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _ym(day: dt.date) -> int:
    return day.year * 100 + day.month


def _month_last(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _current_batch_ids(region_ids: Iterable[int] | None = None) -> list[int]:
    qs = ImportBatch.objects.filter(is_current=True)
    if region_ids is not None:
        qs = qs.filter(region_id__in=list(region_ids))
    return list(qs.order_by("pk").values_list("pk", flat=True))


# Writing -----------------------------------------------------------------------------------------


@contextmanager
def planner_settings() -> Iterator[None]:
    """PostgreSQL, for the rest of the block: no JIT, and sorts in memory.

    The fact statements are single aggregations that run for a second or so; JIT compiled
    them for longer than that (4.6 s of a 7.7 s transaction recount at 500,000 lines), and
    the default 4 MB work_mem spilled their sorts to disk. Transaction-local, restored after.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('work_mem')")
        jit, work_mem = cursor.fetchone()
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true)", [WORK_MEM]
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('jit', %s, true), set_config('work_mem', %s, true)",
                [jit, work_mem],
            )


def _insert_line_facts(batch_ids: list[int], between: tuple[dt.date, dt.date] | None = None):
    """INSERT … SELECT … GROUP BY the month and supplier facts of these batches' lines."""
    if not batch_ids:
        return
    where = f"l.batch_id IN ({_marks(batch_ids)})"
    params: list = list(batch_ids)
    if between:
        where += " AND l.posting_date BETWEEN %s AND %s"
        params += list(between)
    region_ids = list(
        ImportBatch.objects.filter(pk__in=batch_ids).values_list("region_id", flat=True)
    )
    compute._build_cover(region_ids)
    month = _month_expression("l.posting_date")
    kind = compute._kind_expression("k", "l")
    # In a covered category: an addressable classified line whose (region, category) an
    # active contract covers on its date. Two statements, one for the lines in a covered
    # category (a semi-join) and one for the rest (an anti-join), so that PostgreSQL hashes
    # the cover table; a flag computed per line with EXISTS inside a CASE ran the
    # subquery once per line (minutes at a million lines).
    cover = f"""
        SELECT 1 FROM {_q(TEMP_COVER)} v
        WHERE v.region_id = l.region_id AND v.category_id = l.category_id
          AND v.start_date <= l.posting_date AND v.end_date >= l.posting_date
          AND NOT l.is_excluded
    """
    try:
        for covered, condition in (
            ("1 = 1", f"EXISTS ({cover})"),
            ("1 = 0", f"NOT EXISTS ({cover})"),
        ):
            _execute(
                f"""
                INSERT INTO {_q(MONTH_FACTS)} (batch_id, region_id, month, kind, channel,
                    supplier_matched, category_matched, covered, lines, amount)
                SELECT l.batch_id, l.region_id, {month}, {kind}, l.order_channel,
                       l.supplier_matched, l.category_matched, {covered}, COUNT(*),
                       SUM(l.amount)
                FROM {_q(LINES)} l
                LEFT JOIN {_q(CATEGORIES)} k ON k.id = l.category_id
                WHERE {where} AND {condition}
                GROUP BY l.batch_id, l.region_id, {month}, {kind}, l.order_channel,
                         l.supplier_matched, l.category_matched
                """,
                params,
            )
    finally:
        compute._drop(TEMP_COVER)
    _execute(
        f"""
        INSERT INTO {_q(SUPPLIER_FACTS)} (batch_id, region_id, month, supplier_id, amount)
        SELECT l.batch_id, l.region_id, {month}, l.supplier_id, SUM(l.amount)
        FROM {_q(LINES)} l
        WHERE {where} AND l.supplier_matched AND NOT l.is_excluded
        GROUP BY l.batch_id, l.region_id, {month}, l.supplier_id
        """,
        params,
    )


def _delete_line_facts(
    *,
    batch_ids: list[int] | None = None,
    region_id: int | None = None,
    months: tuple[int, int] | None = None,
) -> None:
    for table in (MONTH_FACTS, SUPPLIER_FACTS):
        if batch_ids is not None:
            if not batch_ids:
                continue
            where, params = f"batch_id IN ({_marks(batch_ids)})", list(batch_ids)
        elif region_id is not None:
            where, params = "region_id = %s", [region_id]
        else:
            where, params = "1 = 1", []
        if months:
            where += " AND month BETWEEN %s AND %s"
            params += list(months)
        _execute(f"DELETE FROM {_q(table)} WHERE {where}", params)


def _delete_transactions(region_ids: list[int] | None, years: Iterable[int] | None) -> None:
    """Delete the transaction facts of these regions (None: all) and years (None: all)."""
    years = tuple(sorted(set(years))) if years is not None else None
    where, params = "1 = 1", []
    if region_ids is not None:
        if not region_ids:
            return
        where, params = f"region_id IN ({_marks(region_ids)})", list(region_ids)
    if years:
        where += f" AND year IN ({_marks(years)})"
        params += list(years)
    _execute(f"DELETE FROM {_q(TX_FACTS)} WHERE {where}", params)


def _recount_transactions(region_ids: list[int] | None, years: Iterable[int] | None) -> None:
    """Replace the transaction facts of these regions (None: all) and years (None: all)."""
    years = tuple(sorted(set(years))) if years is not None else None
    if region_ids is not None and not region_ids:
        return
    _delete_transactions(region_ids, years)
    batch_ids = _current_batch_ids(region_ids)
    if not batch_ids:
        return
    select, select_params = compute.transactions_select(LineScope(tuple(batch_ids), years))
    _execute(
        f"""
        INSERT INTO {_q(TX_FACTS)} (region_id, year, period_kind, period, supplier_id,
            transactions, e_orders, spot)
        SELECT region_id,
               CASE kind WHEN 'm' THEN p / 100 WHEN 'q' THEN p / 10 ELSE p END,
               kind, p, supplier_id, n, e, spot
        FROM ({select}) tx
        """,
        select_params,
    )


def _others_in_years(batch: ImportBatch, years: range) -> list[int]:
    """The region's other current batches that may hold lines in these years."""
    return list(
        spend_selectors.current_batches_overlapping(
            region_id=batch.region_id,
            start=dt.date(years[0], 1, 1),
            end=dt.date(years[-1], 12, 31),
        )
        .exclude(pk=batch.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def batch_switched_in(
    *,
    batch: ImportBatch,
    period: tuple[dt.date, dt.date],
    replaced: list[int],
    trimmed: list[int],
    collected: ImportFacts | None = None,
) -> None:
    """The facts after ``batch`` became current for ``period`` (inside the switch-in).

    ``replaced``: batches of the region superseded whole (their lines are gone);
    ``trimmed``: batches that lost their lines inside the period only;
    ``collected``: the batch's facts as the import streamed its lines
    (kpi.import_facts), written as they are instead of grouped again from the lines.
    """
    start, end = period
    years = range(start.year, end.year + 1)
    with transaction.atomic(), planner_settings():
        _delete_line_facts(batch_ids=replaced)
        if trimmed:
            _delete_line_facts(batch_ids=trimmed, months=(_ym(start), _ym(end)))
            if start.day != 1 or end != _month_last(end):
                # What they kept of the first and last month is counted again.
                _insert_line_facts(trimmed, between=(start.replace(day=1), _month_last(end)))
        _delete_line_facts(batch_ids=[batch.pk])
        if collected is None:
            _insert_line_facts([batch.pk])
        else:
            collected.write_line_facts()
        if collected is not None and collected.counts_transactions:
            # Counted from its vouchers as they streamed, with those of the region's other
            # lines in these years (read back, not grouped, by the database), if any.
            _delete_transactions([batch.region_id], years)
            collected.write_transaction_facts(
                other_batch_ids=_others_in_years(batch, years), years=years
            )
        else:
            _recount_transactions([batch.region_id], years)


def regions_rematched(region_ids: Iterable[int]) -> None:
    """The facts of regions whose current lines were mapped or matched again."""
    region_ids = sorted(set(region_ids))
    with transaction.atomic(), planner_settings():
        for region_id in region_ids:
            _delete_line_facts(region_id=region_id)
        _insert_line_facts(_current_batch_ids(region_ids))
        _recount_transactions(region_ids, None)


def rebuild() -> dict[str, int]:
    """Every fact again from the current lines (repairs, migrations): the row counts."""
    with transaction.atomic(), planner_settings():
        _delete_line_facts()
        _insert_line_facts(_current_batch_ids())
        _recount_transactions(None, None)
    return {
        "month_facts": LedgerMonthFact.objects.count(),
        "supplier_month_facts": LedgerSupplierMonthFact.objects.count(),
        "transaction_facts": LedgerTransactionFact.objects.count(),
    }


# Reading -----------------------------------------------------------------------------------------


def _fact_where(scope: LineScope, alias: str = "f") -> tuple[str, list]:
    """The facts of the scope's batches (and years), as LineScope.where is for lines."""
    if not scope.batch_ids:
        return "1 = 0", []
    sql = f"{alias}.batch_id IN ({_marks(scope.batch_ids)})"
    params: list = list(scope.batch_ids)
    if scope.years:
        sql += " AND (" + " OR ".join([f"{alias}.month BETWEEN %s AND %s"] * len(scope.years))
        sql += ")"
        for year in sorted(scope.years):
            params += [year * 100 + 1, year * 100 + 12]
    return sql, params


def _true(column: str) -> str:
    return f"CASE WHEN {column} THEN 1 ELSE 0 END"


def month_sums(scope: LineScope) -> dict[tuple[int, int], Sums]:
    """(region id, yyyymm) → Sums, as kpi.compute.month_sums, from the month facts."""
    where, params = _fact_where(scope)
    sql = f"""
        SELECT f.region_id, f.month, f.kind, SUM(f.lines),
               SUM(CASE WHEN f.channel <> '' THEN f.lines ELSE 0 END),
               SUM(f.amount),
               SUM(CASE WHEN f.supplier_matched THEN f.amount ELSE 0 END),
               SUM(CASE WHEN f.category_matched THEN f.amount ELSE 0 END),
               SUM(CASE WHEN f.channel IN (%s, %s) THEN f.amount ELSE 0 END),
               SUM(CASE WHEN f.covered THEN f.amount ELSE 0 END),
               SUM(CASE WHEN f.covered AND f.category_matched THEN f.amount ELSE 0 END),
               SUM(CASE WHEN f.covered THEN f.lines ELSE 0 END)
        FROM {_q(MONTH_FACTS)} f
        WHERE {where}
        GROUP BY f.region_id, f.month, f.kind
    """
    result: dict[tuple[int, int], Sums] = defaultdict(Sums)
    rows = _fetch(sql, [E_ORDER, PURCHASING_SYSTEM, *params])
    for region_id, ym, kind, n, channel_n, total, sup, cat, system, cov, cov_cat, cov_n in rows:
        sums = result[(region_id, int(ym))]
        sums.lines += int(n)
        sums.channel_lines += int(channel_n or 0)
        sums.kind_lines[kind] += int(n)
        sums.total[kind] += money(total)
        sums.supplier_matched[kind] += money(sup)
        sums.category_matched[kind] += money(cat)
        sums.ordered_in_system[kind] += money(system)
        if kind != EXCLUDED:
            # covered spend is of addressable, classified lines only (the facts flag no other)
            sums.covered += money(cov)
            sums.covered_matched += money(cov_cat)
            sums.covered_lines += int(cov_n or 0)
    return dict(result)


def _scope_regions(scope: LineScope) -> list[int]:
    if not scope.batch_ids:
        return []
    return sorted(
        set(ImportBatch.objects.filter(pk__in=scope.batch_ids).values_list("region_id", flat=True))
    )


def transactions_source(scope: LineScope) -> tuple[str, list]:
    """A SELECT of the transaction facts shaped like kpi.compute's temporary table.

    The scope is a set of regions' current batches (kpi.services), so its transactions
    are the regions' facts.
    """
    regions = _scope_regions(scope) or [0]
    where = f"region_id IN ({_marks(regions)})"
    params: list = list(regions)
    if scope.years:
        where += f" AND year IN ({_marks(scope.years)})"
        params += sorted(scope.years)
    supplier = 'supplier_id COLLATE "C"' if connection.vendor == "postgresql" else "supplier_id"
    sql = f"""
        (SELECT region_id, period_kind AS kind, period AS p, {supplier} AS supplier_id,
                transactions AS n, e_orders AS e, spot
         FROM {_q(TX_FACTS)} WHERE {where})
    """
    return sql, params


def joint_spend(
    scope: LineScope, joint_tender_ids: Iterable[int]
) -> dict[tuple[int, int], Decimal]:
    """(region id, year) → addressable spend supplier-matched to an active joint contract.

    A month that an active joint contract of the region with the supplier covers whole is
    read from the supplier facts; a month one covers in part only is summed from the lines
    of those (region, supplier, month) alone, so the result is the reference's exactly.
    """
    ids = sorted(joint_tender_ids) or [0]
    regions = _scope_regions(scope)
    result: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    if not regions:
        return {}
    contracts = {
        (region_id, supplier_id, start, extended or end)
        for region_id, supplier_id, start, end, extended in Contract.objects.filter(
            tender_id__in=ids, region_id__in=regions
        ).values_list(
            "region_id", "supplier__identifier", "start_date", "end_date", "extended_until"
        )
    }
    months: dict[tuple[int, str, int], bool] = {}
    for region_id, supplier_id, start, end in contracts:
        if start is None or end is None or end < start:
            continue
        day = start.replace(day=1)
        while day <= end:
            last = _month_last(day)
            key = (region_id, supplier_id, _ym(day))
            months[key] = months.get(key, False) or (start <= day and end >= last)
            day = last + dt.timedelta(days=1)
    if not months:
        return {}
    compute._drop(TEMP_JOINT_MONTHS)
    _execute(
        f"CREATE TEMPORARY TABLE {_q(TEMP_JOINT_MONTHS)} "
        "(region_id integer, supplier_id varchar(20), ym integer, whole integer)"
    )
    try:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {_q(TEMP_JOINT_MONTHS)} VALUES (%s, %s, %s, %s)",
                [(r, s, ym, 1 if whole else 0) for (r, s, ym), whole in months.items()],
            )
        if connection.vendor == "postgresql":
            _execute(f"ANALYZE {_q(TEMP_JOINT_MONTHS)}")
        else:
            _execute(
                f"CREATE INDEX {_q(TEMP_JOINT_MONTHS + '_key')} "
                f"ON {_q(TEMP_JOINT_MONTHS)} (region_id, supplier_id, ym)"
            )
        where, params = _fact_where(scope)
        for region_id, y, total in _fetch(
            f"""
            SELECT f.region_id, f.month / 100, SUM(f.amount)
            FROM {_q(SUPPLIER_FACTS)} f
            WHERE {where} AND EXISTS (
                SELECT 1 FROM {_q(TEMP_JOINT_MONTHS)} m
                WHERE m.region_id = f.region_id AND m.supplier_id = f.supplier_id
                  AND m.ym = f.month AND m.whole = 1
            )
            GROUP BY f.region_id, f.month / 100
            """,
            params,
        ):
            result[(region_id, int(y))] += money(total)
        if any(not whole for whole in months.values()):
            for key, value in _partial_months(scope, ids).items():
                result[key] += value
    finally:
        compute._drop(TEMP_JOINT_MONTHS)
    return dict(result)


def _partial_months(scope: LineScope, joint_ids: list[int]) -> dict[tuple[int, int], Decimal]:
    """Joint spend of the months a joint contract covers in part, from their lines."""
    compute._temp_table(
        compute.TEMP_JOINT,
        f"""
        SELECT DISTINCT c.region_id AS region_id, s.identifier AS supplier_id,
               c.start_date AS start_date,
               COALESCE(c.extended_until, c.end_date) AS end_date
        FROM {_q(CONTRACTS)} c JOIN {_q(SUPPLIERS)} s ON s.id = c.supplier_id
        WHERE c.tender_id IN ({_marks(joint_ids)})
        """,
        joint_ids,
    )
    where, params = scope.where("l")
    month = _month_expression("l.posting_date")
    sql = f"""
        SELECT l.region_id, {month} / 100, SUM(l.amount)
        FROM {_q(LINES)} l
        WHERE {where} AND NOT l.is_excluded AND l.supplier_matched
          AND EXISTS (
              SELECT 1 FROM {_q(TEMP_JOINT_MONTHS)} m
              WHERE m.region_id = l.region_id AND m.supplier_id = l.supplier_id
                AND m.ym = {month} AND m.whole = 0
          )
          AND EXISTS (
              SELECT 1 FROM {_q(compute.TEMP_JOINT)} j
              WHERE j.region_id = l.region_id AND j.supplier_id = l.supplier_id
                AND j.start_date <= l.posting_date AND j.end_date >= l.posting_date
          )
        GROUP BY l.region_id, {month} / 100
    """
    return {(region_id, int(y)): money(total) for region_id, y, total in _fetch(sql, params)}


def compare_with_lines(*, region=None, year: int | None = None) -> list[str]:
    """Every figure computed from the facts and from the lines: the ones that differ.

    Runs in a transaction that is rolled back (nothing is stored).
    """
    from kpi.models import KpiRun
    from kpi.services import compute_snapshots

    differences: list[str] = []

    class _Discard(Exception):
        pass

    try:
        with transaction.atomic():
            run = KpiRun.objects.create(scope=KpiRun.Scope.ALL)
            try:
                both = [
                    {
                        (s.key, s.region_id, s.period_kind, s.period_start): (
                            s.value,
                            s.available,
                            s.reason,
                            s.detail,
                        )
                        for s in compute_snapshots(run=run, region=region, year=year, source=source)
                    }
                    for source in ("lines", "facts")
                ]
            finally:
                compute.drop_temp_tables()
            lines, from_facts = both
            for key in sorted(set(lines) | set(from_facts), key=str):
                if lines.get(key) != from_facts.get(key):
                    differences.append(f"{key}: lines {lines.get(key)} facts {from_facts.get(key)}")
            raise _Discard
    except _Discard:
        pass
    return differences
