"""Fixtures shared by the tenders tests."""

from __future__ import annotations

import datetime as dt

import pytest

from tenders.models import SavingsMethod, SavingsRecord, TenderCase
from tests.factories import contracted_case, savings_record

D = dt.date


@pytest.fixture
def savings_cases(regions, category_33) -> dict:
    """Two joint cases led by RM and their savings, all annual, worked by hand in the tests:

    case A (framework, goods and services, contract 2024-01-01 … 2027-12-31):
      RM awarded 1,000,000 → 800,000 = 200,000; RSD awarded 500,000 → 450,000 = 50,000;
      RH expected 1,000,000 → 0 (an estimate: never an awarded saving)
    case B (one-off, medico, contract 2026-07-01 … 2028-06-30):
      RM awarded 400,000 → 300,000 = 100,000, from 1 July 2026
    """
    rm, rsd, rh = regions["RM"], regions["RSD"], regions["RH"]
    method = SavingsMethod.objects.create(code="price", label_da="Prissammenligning")
    framework, one_off = TenderCase.Kind.FRAMEWORK, TenderCase.Kind.ONE_OFF
    a = contracted_case(
        "FUP-2024-001",
        category_33,
        rm,
        framework,
        D(2024, 1, 1),
        D(2027, 12, 31),
        area=TenderCase.Area.GOODS_SERVICES,
    )
    b = contracted_case("FUP-2026-001", category_33, rm, one_off, D(2026, 7, 1), D(2028, 6, 30))
    savings_record(rm, "1000000", "800000", method, tender=a)
    savings_record(rsd, "500000", "450000", method, tender=a)
    savings_record(rh, "1000000", "0", method, tender=a, stage=SavingsRecord.Stage.EXPECTED)
    savings_record(rm, "400000", "300000", method, tender=b, contract_start=D(2026, 7, 1))
    return {"a": a, "b": b, "method": method}
