"""The facts of an import's own lines, computed from its Arrow chunks while they stream
(issue 17 §2; docs/kpi.md "Facts").

The importer validates and annotates each chunk of the file column-wise (spend.importer,
spend.matching.LineAnnotator) before it is copied into the line table. ``ImportFacts``
aggregates the same chunks with pyarrow as they pass, so that at the switch-in the batch's
facts are written from a few thousand aggregated rows instead of being grouped again from
the million lines just loaded:

- the month facts and the supplier-month facts of the batch (additive: each chunk is
  grouped, the partial groups are summed at the end);
- its vouchers (region, month, supplier, invoice → total, supplier-matched, e-order), from
  which the transaction facts are counted when the batch holds every current line of its
  region in the years it touches (a first or whole-year upload). Otherwise another batch
  may hold the same invoices, and kpi.facts recounts those years from the lines.

The rules are those of the SQL in kpi.facts and kpi.compute (kind, covered, transactions,
spot purchases); tests/kpi/test_import_facts.py compares the two on random files.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import connection

from kpi.compute import (
    E_ORDER,
    EXCLUDED,
    GOODS,
    LINES,
    SERVICES,
    UNCLASSIFIED,
    WORKS,
    _month_expression,
    _q,
)
from kpi.models import LedgerMonthFact, LedgerSupplierMonthFact, LedgerTransactionFact
from rfi.cpv import significant_prefix
from rfi.models import Category
from suppliers.models import Contract

MONTH_KEYS = ["month", "kind", "channel", "supplier_matched", "category_matched", "covered"]
VOUCHER_KEYS = ["month", "supplier_id", "invoice", "single"]
NOT_SINGLE = -1
# The memory bound: partial groups are summed into one every this many chunks, and the
# vouchers are grouped once they pass this many rows; a file with still more vouchers
# (many millions of lines) has its transactions recounted from the lines by kpi.facts.
COMPACT_EVERY = 16
VOUCHER_ROWS_LIMIT = 3_000_000
VOUCHER_SCHEMA = pa.schema(
    [
        ("month", pa.int32()),
        ("supplier_id", pa.string()),
        ("invoice", pa.string()),
        ("single", pa.int64()),
        ("amount", pa.int64()),
        ("matched", pa.bool_()),
        ("e_order", pa.bool_()),
    ]
)
HUNDRED = pa.scalar(Decimal(100), pa.decimal128(3, 0))


def _merged(periods: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Overlapping periods joined into disjoint ones, so that a line matches at most one."""
    merged: list[list[dt.date]] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _combined(column):
    return column.combine_chunks() if hasattr(column, "combine_chunks") else column


class ImportFacts:
    """Collects the facts of one import's lines, chunk by chunk (``add``)."""

    def __init__(self, *, batch_id: int, region_id: int):
        self.batch_id = batch_id
        self.region_id = region_id
        categories = list(Category.objects.order_by("pk").values_list("pk", "code"))
        self._category_ids = pa.array([pk for pk, _code in categories], pa.int64())
        self._kinds = pa.array([self._kind(code) for _pk, code in categories], pa.string())
        self._cover = self._cover_table(categories)
        self._months: list[pa.Table] = []
        self._suppliers: list[pa.Table] = []
        self._vouchers: list[pa.Table] | None = []
        self._results: dict | None = None

    @staticmethod
    def _kind(code: str) -> str:
        """kpi.compute._kind_expression for a classified, not excluded line."""
        division = int(code[:2]) if code[:2].isdigit() else 0
        if division == 45:
            return WORKS
        return SERVICES if division >= 50 else GOODS

    def _cover_table(self, categories: list[tuple[int, str]]) -> pa.Table:
        """(category id, start, end): the categories the region's contracts cover, and when
        (kpi.compute._build_cover), the periods of one category merged."""
        periods: dict[str, set[tuple[dt.date, dt.date]]] = {}
        for code, start, end, extended in Contract.objects.filter(
            region_id=self.region_id, category__isnull=False
        ).values_list("category__code", "start_date", "end_date", "extended_until"):
            end = extended or end
            if start is None or end is None:
                continue
            periods.setdefault(significant_prefix(code), set()).add((start, end))
        by_category: dict[int, list[tuple[dt.date, dt.date]]] = {}
        for prefix, spans in periods.items():
            low, high = (prefix + "00000000")[:8], (prefix + "99999999")[:8]
            for pk, code in categories:
                if low <= code <= high:
                    by_category.setdefault(pk, []).extend(spans)
        rows = [
            (pk, start, end)
            for pk, spans in by_category.items()
            for start, end in _merged(spans)
            if start <= end
        ]
        return pa.table(
            {
                "category_id": pa.array([r[0] for r in rows], pa.int64()),
                "start": pa.array([r[1] for r in rows], pa.date32()),
                "end": pa.array([r[2] for r in rows], pa.date32()),
            }
        )

    # Collecting ------------------------------------------------------------------------------

    def add(self, table: pa.Table) -> None:
        """One validated, annotated chunk (spend.importer: the columns the COPY writes)."""
        n = table.num_rows
        if not n or "category_id" not in table.column_names:
            # Not annotated (no annotator): the switch-in groups the facts from the lines.
            return
        dates = _combined(table.column("posting_date"))
        month = pc.add(pc.multiply(pc.year(dates), 100), pc.month(dates)).cast(pa.int32())
        category_id = _combined(table.column("category_id")).cast(pa.int64())
        excluded = _combined(table.column("is_excluded"))
        supplier_matched = _combined(table.column("supplier_matched"))
        category_matched = _combined(table.column("category_matched"))
        channel = pc.fill_null(_combined(table.column("order_channel")), "")
        # Exact sums in whole øre: Arrow sums int64 several times faster than decimal128.
        amount = pc.multiply(_combined(table.column("amount")), HUNDRED).cast(pa.int64())
        supplier_id = pc.fill_null(_combined(table.column("supplier_id")), "")
        classified = pc.take(self._kinds, pc.index_in(category_id, value_set=self._category_ids))
        kind = pc.if_else(
            excluded, pa.scalar(EXCLUDED), pc.fill_null(classified, pa.scalar(UNCLASSIFIED))
        )
        covered = self._covered(category_id, dates, excluded)
        lines = pa.table(
            {
                "month": month,
                "kind": kind,
                "channel": channel,
                "supplier_matched": supplier_matched,
                "category_matched": category_matched,
                "covered": covered,
                "amount": amount,
            }
        )
        self._months.append(
            lines.group_by(MONTH_KEYS, use_threads=False).aggregate(
                [([], "count_all"), ("amount", "sum")]
            )
        )
        counted = pc.invert(excluded)
        matched = pa.table({"month": month, "supplier_id": supplier_id, "amount": amount}).filter(
            pc.and_(supplier_matched, counted)
        )
        self._suppliers.append(
            matched.group_by(["month", "supplier_id"], use_threads=False).aggregate(
                [("amount", "sum")]
            )
        )
        invoice = pc.fill_null(_combined(table.column("invoice_no")), "")
        # A line without an invoice number is a transaction of its own (kpi.compute keys it
        # by the line's id): keyed here by -2 - its row in the file, unique in the batch and
        # apart from the line ids that lines read back from the database are keyed by.
        single = pc.if_else(
            pc.equal(invoice, ""),
            pc.subtract(
                pa.scalar(-2, pa.int64()), _combined(table.column("row_number")).cast(pa.int64())
            ),
            pa.scalar(NOT_SINGLE, pa.int64()),
        )
        if self._vouchers is None:  # too many to hold: the lines will be recounted
            self._compact()
            return
        # Grouped once at the end (``vouchers``): a voucher may span chunks.
        self._vouchers.append(
            pa.table(
                {
                    "month": month,
                    "supplier_id": supplier_id,
                    "invoice": invoice,
                    "single": single,
                    "amount": amount,
                    "matched": supplier_matched,
                    "e_order": pc.equal(channel, E_ORDER),
                }
            ).filter(counted)
        )
        self._compact()

    def _compact(self) -> None:
        """Keep the memory bounded whatever the file's size (see COMPACT_EVERY)."""
        if len(self._months) >= COMPACT_EVERY:
            self._months = [_resummed(self._months, MONTH_KEYS, ["count_all", "amount_sum"])]
        if len(self._suppliers) >= COMPACT_EVERY:
            self._suppliers = [_resummed(self._suppliers, ["month", "supplier_id"], ["amount_sum"])]
        if self._vouchers and sum(part.num_rows for part in self._vouchers) > VOUCHER_ROWS_LIMIT:
            grouped = _vouchers(pa.concat_tables(self._vouchers))
            self._vouchers = [grouped] if grouped.num_rows <= VOUCHER_ROWS_LIMIT // 2 else None

    @property
    def counts_transactions(self) -> bool:
        """Whether it holds the vouchers to count the transactions from (not too many)."""
        return self._vouchers is not None

    def _covered(self, category_id, dates, excluded):
        """kpi.facts: a line not excluded whose category a contract covers on its date."""
        n = len(category_id)
        if not self._cover.num_rows:
            return pa.repeat(False, n)
        rows = pc.subtract(pc.cumulative_sum(pa.repeat(1, n).cast(pa.int64())), 1)
        lines = pa.table({"row": rows, "category_id": category_id, "day": dates}).filter(
            pc.and_(pc.is_valid(category_id), pc.invert(excluded))
        )
        pairs = lines.join(self._cover, keys="category_id", join_type="inner")
        if pairs.num_rows:
            pairs = pairs.filter(
                pc.and_(
                    pc.less_equal(pairs["start"], pairs["day"]),
                    pc.less_equal(pairs["day"], pairs["end"]),
                )
            )
        return pc.is_in(rows, value_set=pc.unique(pairs["row"]))

    # The results -------------------------------------------------------------------------------

    def month_rows(self) -> pa.Table | None:
        parts = [part for part in self._months if part.num_rows]
        if not parts:
            return None
        summed = _resummed(parts, MONTH_KEYS, ["count_all", "amount_sum"])
        return _in_kroner(summed.rename_columns([*MONTH_KEYS, "lines", "amount"]))

    def supplier_rows(self) -> pa.Table | None:
        parts = [part for part in self._suppliers if part.num_rows]
        if not parts:
            return None
        summed = _resummed(parts, ["month", "supplier_id"], ["amount_sum"])
        return _in_kroner(summed.rename_columns(["month", "supplier_id", "amount"]))

    def vouchers(self) -> pa.Table | None:
        """(month, supplier, invoice, single → amount in øre, matched, e-order)."""
        parts = [part for part in self._vouchers or [] if part.num_rows]
        if not parts:
            return None
        return _vouchers(pa.concat_tables(parts))

    def transaction_rows(self, vouchers: pa.Table | None = None) -> pa.Table | None:
        """(year, period_kind, period, supplier_id, transactions, e_orders, spot), as
        kpi.compute.transactions_select counts them from the lines of these vouchers (by
        default the import's own)."""
        if vouchers is None:
            vouchers = self.vouchers()
        if vouchers is None:
            return None
        vouchers = vouchers.rename_columns([*VOUCHER_KEYS, "total", "matched", "e_order"])
        by_period = {"m": vouchers.append_column("period", vouchers["month"])}
        # A voucher spanning months counts once in its quarter and its year, on its total
        # there. The year's vouchers first; a voucher whose months lie in one quarter is
        # also that quarter's as it is, and only the few that span quarters are regrouped.
        keys = ["year", "supplier_id", "invoice", "single"]
        yearly = (
            vouchers.append_column("year", _year(vouchers["month"]))
            .group_by(keys, use_threads=False)
            .aggregate(
                [
                    ("total", "sum"),
                    ("matched", "any"),
                    ("e_order", "any"),
                    ("month", "min"),
                    ("month", "max"),
                ]
            )
            .rename_columns([*keys, "total", "matched", "e_order", "first", "last"])
        )
        by_period["y"] = yearly.append_column("period", yearly["year"])
        first_quarter, last_quarter = _quarter(yearly["first"]), _quarter(yearly["last"])
        one_quarter = pc.equal(first_quarter, last_quarter)
        quarterly = yearly.append_column("period", first_quarter).filter(one_quarter)
        spanning = yearly.filter(pc.invert(one_quarter)).select(keys)
        if spanning.num_rows:
            regrouped = ["period", "supplier_id", "invoice", "single"]
            split = _spanning_quarters(vouchers, spanning, keys)
            quarterly = pa.concat_tables(
                [quarterly.select([*regrouped, "total", "matched", "e_order"]), split],
            )
        by_period["q"] = quarterly
        divisor = {"m": 100, "q": 10, "y": 1}
        counted = []
        for kind in ("m", "q", "y"):
            per_period = by_period[kind]
            spot = pc.and_(
                pc.greater(per_period["total"], 0),
                pc.invert(per_period["matched"]),
            )
            flags = pa.table(
                {
                    "period": per_period["period"].cast(pa.int32()),
                    "supplier_id": per_period["supplier_id"],
                    "e_order": per_period["e_order"].cast(pa.int64()),
                    "spot": spot.cast(pa.int64()),
                }
            )
            grouped = flags.group_by(["period", "supplier_id"], use_threads=False).aggregate(
                [([], "count_all"), ("e_order", "sum"), ("spot", "sum")]
            )
            n = grouped.num_rows
            counted.append(
                pa.table(
                    {
                        "year": pc.divide(grouped["period"], divisor[kind]).cast(pa.int32()),
                        "period_kind": pa.repeat(kind, n).cast(pa.string()),
                        "period": grouped["period"],
                        "supplier_id": grouped["supplier_id"],
                        "transactions": grouped["count_all"],
                        "e_orders": grouped["e_order_sum"],
                        "spot": grouped["spot_sum"],
                    }
                )
            )
        return pa.concat_tables(counted)

    def complete(self) -> None:
        """The file's last chunk was given: aggregate now, while the database is still
        loading the lines (the import calls this before it waits for its COPY to end)."""
        vouchers = self.vouchers()
        self._results = {
            "months": self.month_rows(),
            "suppliers": self.supplier_rows(),
            "vouchers": vouchers,
            "transactions": None if vouchers is None else self.transaction_rows(vouchers),
        }
        self._months, self._suppliers = [], []
        self._vouchers = None if self._vouchers is None else []

    def _result(self, name: str, compute) -> pa.Table | None:
        return compute() if self._results is None else self._results[name]

    def write_line_facts(self) -> None:
        """INSERT the batch's month and supplier-month facts (its old ones are deleted)."""
        months = self._result("months", self.month_rows)
        if months is not None:
            _insert(
                LedgerMonthFact._meta.db_table,
                self._with_batch(months),
            )
        suppliers = self._result("suppliers", self.supplier_rows)
        if suppliers is not None:
            _insert(LedgerSupplierMonthFact._meta.db_table, self._with_batch(suppliers))

    def write_transaction_facts(
        self, *, other_batch_ids: list[int] = (), years: range | None = None
    ) -> None:
        """INSERT the region's transaction facts of the years the import touches (its old
        ones are deleted). ``other_batch_ids``: the region's other current batches with lines
        in those years; their lines are read back as vouchers (the database only streams
        them; Arrow groups them with the import's own), since one invoice may be in both."""
        if other_batch_ids:
            own = self._result("vouchers", self.vouchers)
            theirs = _vouchers(_lines_as_vouchers(other_batch_ids, years))
            both = theirs if own is None else _vouchers(pa.concat_tables([own, theirs]))
            rows = self.transaction_rows(both) if both.num_rows else None
        else:
            rows = self._result("transactions", self.transaction_rows)
        if rows is not None:
            region = pa.repeat(self.region_id, rows.num_rows).cast(pa.int64())
            _insert(LedgerTransactionFact._meta.db_table, rows.add_column(0, "region_id", region))

    def _with_batch(self, table: pa.Table) -> pa.Table:
        n = table.num_rows
        return table.add_column(
            0, "region_id", pa.repeat(self.region_id, n).cast(pa.int64())
        ).add_column(0, "batch_id", pa.repeat(self.batch_id, n).cast(pa.int64()))


def _year(month):
    return pc.divide(month, 100).cast(pa.int32())


def _quarter(month):
    """yyyymm → yyyyq (kpi.compute._period_expression)."""
    year = pc.divide(month, 100)
    in_year = pc.subtract(month, pc.multiply(year, 100))
    return pc.add(pc.multiply(year, 10), pc.divide(pc.add(in_year, 2), 3)).cast(pa.int32())


def _spanning_quarters(vouchers: pa.Table, spanning: pa.Table, keys: list[str]) -> pa.Table:
    """The month vouchers of ``spanning`` (year vouchers over two or more quarters), regrouped
    by quarter: (period, supplier_id, invoice, single, total, matched, e_order)."""
    months = vouchers.append_column("year", _year(vouchers["month"])).join(
        spanning, keys=keys, join_type="inner", use_threads=False
    )
    regrouped = ["period", "supplier_id", "invoice", "single"]
    return (
        months.append_column("period", _quarter(months["month"]))
        .group_by(regrouped, use_threads=False)
        .aggregate([("total", "sum"), ("matched", "any"), ("e_order", "any")])
        .rename_columns([*regrouped, "total", "matched", "e_order"])
    )


def _resummed(parts: list[pa.Table], keys: list[str], sums: list[str]) -> pa.Table:
    """Partial groups summed into one table with the same columns."""
    return (
        pa.concat_tables(parts)
        .group_by(keys, use_threads=False)
        .aggregate([(name, "sum") for name in sums])
        .rename_columns([*keys, *sums])
    )


def _vouchers(lines: pa.Table) -> pa.Table:
    """Voucher rows (VOUCHER_SCHEMA) grouped by VOUCHER_KEYS: Σ øre, any matched, any e-order."""
    return (
        lines.group_by(VOUCHER_KEYS, use_threads=False)
        .aggregate([("amount", "sum"), ("matched", "any"), ("e_order", "any")])
        .rename_columns(VOUCHER_SCHEMA.names)
    )


def _lines_as_vouchers(batch_ids: list[int], years: range) -> pa.Table:
    """The counted lines of these batches in these years, as VOUCHER_SCHEMA rows (a line
    without an invoice number keyed by its id, as in kpi.compute.transactions_select)."""
    marks = ", ".join(["%s"] * len(batch_ids))
    month = _month_expression("l.posting_date")
    sql = f"""
        SELECT {month}, l.supplier_id, l.invoice_no,
               CASE WHEN l.invoice_no = '' THEN l.id ELSE {NOT_SINGLE} END,
               CAST(ROUND(l.amount * 100) AS BIGINT),
               CASE WHEN l.supplier_matched THEN 1 ELSE 0 END,
               CASE WHEN l.order_channel = %s THEN 1 ELSE 0 END
        FROM {_q(LINES)} l
        WHERE l.batch_id IN ({marks}) AND NOT l.is_excluded
          AND l.posting_date BETWEEN %s AND %s
    """
    params = [E_ORDER, *batch_ids, dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31)]
    text_schema = pa.schema(
        [
            (name, pa.int64() if name in ("matched", "e_order") else type_)
            for name, type_ in zip(VOUCHER_SCHEMA.names, VOUCHER_SCHEMA.types, strict=True)
        ]
    )
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            query = connection.ops.compose_sql(sql, params)
            buffer = io.BytesIO()
            with cursor.cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
                for data in copy:
                    buffer.write(data)
        buffer.seek(0)
        table = pacsv.read_csv(
            buffer,
            read_options=pacsv.ReadOptions(column_names=text_schema.names),
            convert_options=pacsv.ConvertOptions(
                column_types=text_schema,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        table = pa.table(
            [
                pa.array([row[i] for row in rows], type_)
                for i, type_ in enumerate(text_schema.types)
            ],
            schema=text_schema,
        )
    return table.set_column(5, "matched", pc.not_equal(table["matched"], 0)).set_column(
        6, "e_order", pc.not_equal(table["e_order"], 0)
    )


def _in_kroner(table: pa.Table) -> pa.Table:
    """The ``amount`` column from whole øre to exact kroner (a few thousand rows)."""
    kroner = pa.array(
        [Decimal(ore).scaleb(-2) for ore in table["amount"].to_pylist()], pa.decimal128(18, 2)
    )
    return table.set_column(table.column_names.index("amount"), "amount", kroner)


def _insert(db_table: str, table: pa.Table) -> None:
    """Write an Arrow table's rows into ``db_table`` (columns by name): COPY on PostgreSQL."""
    if not table.num_rows:
        return
    columns = ", ".join(_q(name) for name in table.column_names)
    if connection.vendor == "postgresql":
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
        connection.ensure_connection()
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {_q(db_table)} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
        return
    marks = ", ".join(["%s"] * table.num_columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_q(db_table)} ({columns}) VALUES ({marks})",
            [tuple(row.values()) for row in table.to_pylist()],
        )
