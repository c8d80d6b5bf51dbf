"""The importer's binary COPY payload: what goes in is what the line table holds.

Every value is sent in PostgreSQL's own binary representation, so these tests load the
payload through a real COPY into a table shaped like the line table and read it back.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from django.db import connection

from spend.importer import binary_copy
from spend.importer.load import LINE_TABLE
from spend.importer.validate import AMOUNT_TYPE, OUTPUT_SCHEMA

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="binary COPY is PostgreSQL's"),
]

TEXTS = {
    "voucher_no": ["1", "", "tab\there", "\\N", "V-" + "9" * 38],
    "invoice_no": ["F1", "back\\slash", "line\nbreak", "cr\rlf\r\n", ""],
    "supplier_id": ["12345678", "87654321", "DK12345678", "0", "SE5560000000"],
    "supplier_name": ["Ærø A/S", 'Hansen & "Søn"', "Ŝtraße 😀 €", "", "x" * 300],
    "account": ["22110", "", "27100", "1", "9" * 20],
    "cost_centre": ["4100", "", "4200", "-", "c" * 40],
    "description": ["Handsker", "ø" * 500, "\x01 control", "'; DROP TABLE x; --", ""],
    "order_channel": ["e_order", "manual", "", "purchasing_system", "e_order"],
    "category_code": ["33141000", "", "15860000", "33000000", "03000000"],
}
AMOUNTS = ["1234.56", "-234.56", "0.00", "-0.01", "9999999999999.99"]
DATES = [dt.date(2025, 1, 2), dt.date(1990, 1, 1), dt.date(2099, 12, 31), dt.date(2000, 1, 1),
         dt.date(1999, 12, 31)]  # fmt: skip


def lines(**extra) -> pa.Table:
    """Five validated lines as the importer's chunks carry them, with odd values throughout."""
    columns = {
        "row_number": pa.array([2, 3, 4, 5, 2_000_000_000], pa.int64()),
        "posting_date": pa.array(DATES, pa.date32()),
        "amount": pa.array([Decimal(a) for a in AMOUNTS], AMOUNT_TYPE),
        **{name: pa.array(values, pa.string()) for name, values in TEXTS.items()},
    }
    table = pa.table({name: columns[name] for name in OUTPUT_SCHEMA.names})
    for name, values in extra.items():
        table = table.append_column(name, values)
    return table


@pytest.fixture
def copied():
    """COPY a payload into a table like the line table; the rows back as dicts, in order."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE copied (LIKE {LINE_TABLE} INCLUDING ALL)")

    def load(*payloads: bytes) -> list[dict]:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE copied")
            columns = ", ".join(binary_copy.COLUMN_NAMES)
            raw = cursor.cursor
            with raw.copy(f"COPY copied ({columns}) FROM STDIN (FORMAT binary)") as copy:
                copy.write(binary_copy.SIGNATURE)
                for payload in payloads:
                    copy.write(payload)
                copy.write(binary_copy.TRAILER)
            cursor.execute(f"SELECT {columns} FROM copied ORDER BY id")
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    yield load
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE copied")


def test_every_value_arrives_exactly_as_validated(copied):
    rows = copied(binary_copy.copy_binary(lines(), batch_id=7, region_id=3))

    assert len(rows) == 5
    assert [row["amount"] for row in rows] == [Decimal(a) for a in AMOUNTS]
    assert [row["posting_date"] for row in rows] == DATES
    assert [row["row_number"] for row in rows] == [2, 3, 4, 5, 2_000_000_000]
    for name, values in TEXTS.items():
        assert [row[name] for row in rows] == values, name
    assert {(row["batch_id"], row["region_id"]) for row in rows} == {(7, 3)}
    # not mapped yet: no category, every flag false
    assert {row["category_id"] for row in rows} == {None}
    assert not any(row[flag] for row in rows for flag in binary_copy.FLAGS)


def test_the_mapping_columns_and_unmapped_lines(copied):
    table = lines(
        category_id=pa.array([11, None, 2**40, None, 1], pa.int64()),
        is_excluded=pa.array([True, False, False, True, False]),
        supplier_matched=pa.array([False, True, False, True, False]),
    )
    rows = copied(binary_copy.copy_binary(table, batch_id=1, region_id=1))

    assert [row["category_id"] for row in rows] == [11, None, 2**40, None, 1]
    assert [row["is_excluded"] for row in rows] == [True, False, False, True, False]
    assert [row["supplier_matched"] for row in rows] == [False, True, False, True, False]
    assert [row["category_matched"] for row in rows] == [False] * 5  # not given: false


def test_slices_and_chunked_columns_send_their_own_rows(copied):
    # the pipeline hands over slices of larger tables and columns in several chunks
    table = lines()
    chunked = pa.Table.from_batches([*table.slice(0, 2).to_batches(), *table.slice(2).to_batches()])
    assert chunked.column("description").num_chunks == 2

    rows = copied(
        binary_copy.copy_binary(table.slice(3), batch_id=1, region_id=1),
        binary_copy.copy_binary(chunked.slice(1, 3), batch_id=2, region_id=1),
        binary_copy.copy_binary(table.slice(0, 0), batch_id=3, region_id=1),
    )

    assert [row["row_number"] for row in rows] == [5, 2_000_000_000, 3, 4, 5]
    assert [row["description"] for row in rows] == [
        *TEXTS["description"][3:],
        *TEXTS["description"][1:4],
    ]
    assert [row["amount"] for row in rows] == [Decimal(a) for a in AMOUNTS[3:] + AMOUNTS[1:4]]
    assert [row["batch_id"] for row in rows] == [1, 1, 2, 2, 2]


def test_large_strings_are_sent_as_strings(copied):
    table = lines()
    index = table.schema.get_field_index("supplier_name")
    table = table.set_column(
        index, "supplier_name", table.column("supplier_name").cast(pa.large_string())
    )
    rows = copied(binary_copy.copy_binary(table, batch_id=1, region_id=1))
    assert [row["supplier_name"] for row in rows] == TEXTS["supplier_name"]


def test_a_null_where_the_table_needs_a_value_is_a_bug_not_a_silent_gap():
    table = lines().set_column(
        OUTPUT_SCHEMA.get_field_index("description"),
        "description",
        pa.array(["a", None, "c", "d", "e"], pa.string()),
    )
    with pytest.raises(ValueError, match="description holds 1 NULL"):
        binary_copy.copy_binary(table, batch_id=1, region_id=1)


def test_the_payload_matches_the_line_table_column_for_column():
    # Binary fields must have the column's exact type: a migration that changes one (or
    # adds a column the importer should fill) has to change binary_copy too.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = %s AND table_schema = current_schema()",
            [LINE_TABLE],
        )
        table = dict(cursor.fetchall())
    assert {name: table.get(name) for name, _ in binary_copy.COLUMNS} == dict(binary_copy.COLUMNS)
    assert set(table) - set(binary_copy.COLUMN_NAMES) == {"id"}
