"""The covering-prefix rule in the import's Arrow annotator agrees with rfi.cpv.significant_prefix."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from rfi.cpv import significant_prefix
from spend import matching
from tests.spend import spend_data as data

pytestmark = pytest.mark.django_db

SUPPLIER = "11111111"


@pytest.mark.parametrize(
    "contract_code", ["33000000", "33140000", "33141000", "30000000", "03000000"]
)
def test_the_arrow_annotator_covers_exactly_the_codes_under_the_significant_prefix(
    regions, contract_code
):
    # given a contract of the region in one category, and lines of the supplier in every code
    tree = data.tree()
    rm = regions["RM"]
    data.contract(rm, SUPPLIER, dt.date(2025, 1, 1), dt.date(2025, 12, 31), code=contract_code)
    codes = sorted(tree)
    chunk = pa.table(
        {
            "posting_date": pa.array([dt.date(2025, 6, 1)] * len(codes), pa.date32()),
            "supplier_id": pa.array([SUPPLIER] * len(codes), pa.string()),
            "account": pa.array([""] * len(codes), pa.string()),
            "cost_centre": pa.array([""] * len(codes), pa.string()),
            "category_code": pa.array(codes, pa.string()),
        }
    )

    # when the annotator reads the chunk
    covered = matching.LineAnnotator(rm.pk).annotate(chunk)["category_matched"].to_pylist()

    # then a line is covered exactly when its code starts with the contract's prefix
    prefix = significant_prefix(contract_code)
    assert covered == [code.startswith(prefix) for code in codes]
    assert True in covered and False in covered
