"""The Arrow annotator (before COPY) agrees line for line with the SQL UPDATEs."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pyarrow as pa
import pytest

from spend import matching
from spend.models import ExclusionRule, LedgerLine, MappingRule
from tests.spend import spend_data as data

pytestmark = pytest.mark.django_db

CODES = list(data.LABELS) + ["3111000", "99999999", "", "", "abc"]
ACCOUNTS = ["4000", "04500", "4999", "45000", "400", "9100", "A150", "B100", "a150", "", "27100"]
CENTRES = ["K17", "K18", ""]
SUPPLIERS = ["11111111", "22222222", "33333333", "44444444"]


def _random_lines(rng: random.Random, n: int) -> list[dict]:
    return [
        {
            "posting_date": dt.date(2024, 12, 25) + dt.timedelta(days=rng.randrange(0, 400)),
            "category_code": rng.choice(CODES),
            "account": rng.choice(ACCOUNTS),
            "cost_centre": rng.choice(CENTRES),
            "supplier_id": rng.choice(SUPPLIERS),
            "amount": Decimal(rng.randrange(-500, 20000)),
        }
        for _ in range(n)
    ]


def _rules(region) -> None:
    c = data.category
    MappingRule.objects.create(
        region=region,
        priority=10,
        kind="account_range",
        account_from="4000",
        account_to="4999",
        category=c("30190000"),
    )
    MappingRule.objects.create(
        priority=10, kind="supplier", supplier_id="22222222", category=c("85100000")
    )
    MappingRule.objects.create(
        region=region,
        priority=5,
        kind="account_cost_centre",
        account_from="4500",
        cost_centre="K17",
        category=c("33141110"),
    )
    MappingRule.objects.create(
        priority=20,
        kind="account_range",
        account_from="A100",
        account_to="A199",
        category=c("03111000"),
    )
    MappingRule.objects.create(
        priority=1, kind="supplier", supplier_id="44444444", category=c("33600000"), active=False
    )
    ExclusionRule.objects.create(
        kind="account_range", account_from="9000", account_to="9999", reason="Løn"
    )
    ExclusionRule.objects.create(
        region=region, kind="category", category_prefix="336", reason="Medicin"
    )


def _contracts(region, other) -> None:
    D = dt.date
    data.contract(region, "11111111", D(2025, 1, 1), D(2025, 6, 30), code="33140000")
    data.contract(
        region,
        "11111111",
        D(2025, 3, 1),
        D(2025, 12, 31),
        code="30000000",
        extended_until=D(2026, 1, 15),
    )
    data.contract(region, "22222222", D(2024, 1, 1), D(2025, 2, 1), code=None)
    data.contract(region, "33333333", D(2025, 1, 1), D(2025, 12, 31), code="03000000")
    data.contract(other, "44444444", D(2024, 1, 1), D(2026, 12, 31), code="33000000")


def _arrow(lines: list[LedgerLine]) -> pa.Table:
    return pa.table(
        {
            "posting_date": pa.array([x.posting_date for x in lines], pa.date32()),
            "supplier_id": pa.array([x.supplier_id for x in lines], pa.string()),
            "account": pa.array([x.account for x in lines], pa.string()),
            "cost_centre": pa.array([x.cost_centre for x in lines], pa.string()),
            "category_code": pa.array([x.category_code for x in lines], pa.string()),
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_annotator_agrees_with_the_updates(regions, seed):
    # given random lines, rules of every kind and overlapping contracts
    data.tree()
    rm = regions["RM"]
    _rules(rm)
    _contracts(rm, regions["RSD"])
    batch = data.batch(rm)
    data.lines(batch, *_random_lines(random.Random(seed), 400))
    annotator = matching.LineAnnotator(rm.pk)

    # when both compute the lines
    matching.after_lines_loaded(batch)
    lines = list(LedgerLine.objects.filter(batch=batch).order_by("pk"))
    columns = annotator.annotate(_arrow(lines))

    # then they agree on every line, and the fixture exercised every outcome
    expected = {
        "category_id": [x.category_id for x in lines],
        "is_excluded": [x.is_excluded for x in lines],
        "supplier_matched": [x.supplier_matched for x in lines],
        "category_matched": [x.category_matched for x in lines],
    }
    for name, values in expected.items():
        got = columns[name].to_pylist()
        diff = [
            (i, lines[i].__dict__, got[i], values[i])
            for i in range(len(lines))
            if got[i] != values[i]
        ]
        assert not diff, f"{name}: {diff[:3]}"
    assert None in expected["category_id"]
    for flag in ("is_excluded", "supplier_matched", "category_matched"):
        assert set(expected[flag]) == {True, False}


def test_the_annotator_knows_when_it_is_stale(regions):
    data.tree()
    rm = regions["RM"]
    annotator = matching.LineAnnotator(rm.pk)
    assert not annotator.is_stale()

    MappingRule.objects.create(kind="supplier", supplier_id="1", category=data.category("33000000"))

    assert annotator.is_stale()


def test_an_empty_chunk(regions):
    data.tree()
    annotator = matching.LineAnnotator(regions["RM"].pk)
    empty = _arrow([])

    columns = annotator.annotate(empty)

    assert all(len(column) == 0 for column in columns.values())


def test_after_lines_loaded_trusts_a_fresh_annotator_and_redoes_a_stale_one(regions):
    # given lines the importer wrote with the annotator's values (here: a wrong one)
    data.tree()
    rm = regions["RM"]
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"category_code": "33141110"})
    annotator = matching.LineAnnotator(rm.pk)

    # when nothing changed, nothing is redone
    assert matching.after_lines_loaded(batch, annotator=annotator) is None
    line.refresh_from_db()
    assert line.category_id is None

    # when a contract changed meanwhile, the batch is mapped and matched in SQL
    data.contract(rm, "11111111", dt.date(2025, 1, 1), dt.date(2025, 12, 31), code="33000000")
    matching.after_lines_loaded(batch, annotator=annotator)
    line.refresh_from_db()
    assert (line.category.code, line.supplier_matched, line.category_matched) == (
        "33141110",
        True,
        True,
    )
