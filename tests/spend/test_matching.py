"""Contract matching per KPI.md "Terms": supplier-matched and category-matched lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from spend import matching, selectors, tasks
from spend.models import ExclusionRule, LedgerLine, MappingRule
from suppliers.services import contract_create
from tests.spend import spend_data as data
from tests.spend.ledger_files import (
    JANUARY,
    csv_bytes,
    import_file,
    media,  # noqa: F401 – fixture
)

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture(autouse=True)
def _tree(db):
    data.tree()


@pytest.fixture
def rm(regions):
    return regions["RM"]


@pytest.fixture
def rsd(regions):
    return regions["RSD"]


def _flags(line: LedgerLine) -> tuple[bool, bool]:
    line.refresh_from_db()
    return line.supplier_matched, line.category_matched


def test_supplier_match_versus_category_match(rm):
    # given a contract with supplier 11111111 for medical consumables (CPV class 3314)
    data.contract(rm, "11111111", D(2025, 1, 1), D(2025, 12, 31), code="33140000")
    batch = data.batch(rm)
    bandage, laptop, uncoded, other_supplier = data.lines(
        batch,
        {"category_code": "33141110"},
        {"category_code": "30190000"},
        {"category_code": ""},
        {"category_code": "33141110", "supplier_id": "22222222"},
    )

    # when
    matching.after_lines_loaded(batch)

    # then the contract's category covers bandages only; loyalty to the supplier covers all
    assert _flags(bandage) == (True, True)
    assert _flags(laptop) == (True, False)
    assert _flags(uncoded) == (True, False)
    assert _flags(other_supplier) == (False, False)


@pytest.mark.parametrize(
    ("posting_date", "matched"),
    [
        (D(2024, 12, 31), False),  # the day before the start
        (D(2025, 1, 1), True),  # the start day counts
        (D(2025, 6, 30), True),  # the end day counts
        (D(2025, 7, 1), False),  # the day after the end does not
    ],
)
def test_contract_start_and_end_days_are_inclusive(rm, posting_date, matched):
    data.contract(rm, "11111111", D(2025, 1, 1), D(2025, 6, 30), code="33000000")
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"posting_date": posting_date, "category_code": "33141110"})

    matching.after_lines_loaded(batch)

    assert _flags(line) == (matched, matched)


def test_an_exercised_extension_extends_the_contract(rm):
    data.contract(
        rm,
        "11111111",
        D(2024, 1, 1),
        D(2024, 12, 31),
        code="33000000",
        extended_until=D(2025, 6, 30),
    )
    batch = data.batch(rm)
    in_extension, last_day, after = data.lines(
        batch,
        {"posting_date": D(2025, 1, 1), "category_code": "33141110"},
        {"posting_date": D(2025, 6, 30), "category_code": "33141110"},
        {"posting_date": D(2025, 7, 1), "category_code": "33141110"},
    )

    matching.after_lines_loaded(batch)

    assert _flags(in_extension) == (True, True)
    assert _flags(last_day) == (True, True)
    assert _flags(after) == (False, False)


def test_another_regions_contract_does_not_match(rm, rsd):
    data.contract(rsd, "11111111", D(2025, 1, 1), D(2025, 12, 31), code="33000000")
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"category_code": "33141110"})

    matching.after_lines_loaded(batch)

    assert _flags(line) == (False, False)


def test_a_division_contract_covers_its_division_only(rm):
    # "03" must not cover "30": trailing zeros go, the division's own digits stay.
    data.contract(rm, "11111111", D(2025, 1, 1), D(2025, 12, 31), code="30000000")
    batch = data.batch(rm)
    office, seeds = data.lines(batch, {"category_code": "30190000"}, {"category_code": "03111000"})

    matching.after_lines_loaded(batch)

    assert _flags(office) == (True, True)
    assert _flags(seeds) == (True, False)


def test_a_contract_without_category_matches_the_supplier_only(rm):
    data.contract(rm, "11111111", D(2025, 1, 1), D(2025, 12, 31), code=None)
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"category_code": "33141110"})

    matching.after_lines_loaded(batch)

    assert _flags(line) == (True, False)


def test_overlapping_contracts_do_not_double_count(rm):
    # given two contracts with the same supplier, both active on the posting date
    data.contract(rm, "11111111", D(2024, 1, 1), D(2025, 12, 31), code="33000000")
    data.contract(rm, "11111111", D(2025, 1, 1), D(2026, 12, 31), code="33140000")
    batch = data.batch(rm)
    data.lines(
        batch,
        {"category_code": "33141110", "amount": 1000},
        {"category_code": "", "amount": 500, "supplier_id": "99999999"},
    )

    # when
    matching.after_lines_loaded(batch)
    totals = selectors.spend_totals(selectors.spend_lines(region=rm, year=2025))

    # then the line counts once in each measure
    assert LedgerLine.objects.filter(supplier_matched=True).count() == 1
    assert totals["total"] == Decimal("1500.00")
    assert totals["supplier_matched_total"] == Decimal("1000.00")
    assert totals["category_matched_total"] == Decimal("1000.00")
    assert totals["off_contract"] == Decimal("500.00")


def test_contract_change_rematches_the_regions_current_lines(rm):
    # given a line just after the contract's end
    contract = data.contract(rm, "11111111", D(2024, 1, 1), D(2024, 12, 31), code="33000000")
    current = data.batch(rm)
    old = data.batch(rm, current=False)
    (line,) = data.lines(current, {"posting_date": D(2025, 3, 1), "category_code": "33141110"})
    (old_line,) = data.lines(old, {"posting_date": D(2025, 3, 1), "category_code": "33141110"})
    matching.after_lines_loaded(current)
    assert _flags(line) == (False, False)

    # when an extension is exercised
    contract.extended_until = D(2025, 12, 31)
    contract.save()
    matching.contracts_changed(rm)

    # then the current batch's line is on contract; a replaced batch is left alone
    assert _flags(line) == (True, True)
    assert _flags(old_line) == (False, False)

    # and shortening it again takes the flags away
    contract.extended_until = None
    contract.save()
    matching.contracts_changed(rm)
    assert _flags(line) == (False, False)


def test_rematch_task_calls_the_service(rm, monkeypatch):
    called = []

    def fake(region):
        called.append(region)
        return matching.MatchResult(supplier_matched=3, category_matched=1)

    monkeypatch.setattr(matching, "contracts_changed", fake)

    result = tasks.rematch_region.delay(rm.pk).get()

    assert called == [rm]
    assert result == {"supplier_matched": 3, "category_matched": 1}


def test_an_imported_extract_is_mapped_excluded_and_matched(rm, media):  # noqa: F811 – fixture
    # given a contract for gloves, a rule for the consultancy account, food excluded
    data.contract(rm, "12345678", D(2024, 1, 1), D(2025, 12, 31), code="33140000")
    MappingRule.objects.create(
        region=rm,
        kind="account_range",
        account_from="27000",
        account_to="27999",
        category=data.category("71300000"),
    )
    ExclusionRule.objects.create(kind="account_range", account_from="23100", reason="Kantine")

    # when the extract is imported through the engine
    batch = import_file(rm, csv_bytes(JANUARY))

    # then its lines are mapped, excluded and matched when they become current
    assert batch.is_current, batch.message
    lines = {
        line.voucher_no: line
        for line in LedgerLine.objects.filter(batch=batch).select_related("category")
    }
    gloves, credit, consultancy, coffee = (lines[v] for v in ("1001", "1002", "1003", "1004"))
    assert (gloves.category.code, gloves.supplier_matched, gloves.category_matched) == (
        "33141000",
        True,
        True,
    )
    assert credit.category_matched
    assert consultancy.category.code == "71300000"
    assert not consultancy.supplier_matched
    assert coffee.is_excluded


def test_a_contract_registered_through_the_service_rematches_on_commit(
    rm, django_capture_on_commit_callbacks
):
    # given a line with no contract yet
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"category_code": "33141110"})
    matching.after_lines_loaded(batch)
    assert _flags(line) == (False, False)

    # when the contracts code registers one (its on_commit enqueues spend.rematch_region)
    with django_capture_on_commit_callbacks(execute=True):
        contract_create(
            actor=None,
            region=rm,
            supplier=data.supplier("11111111"),
            title="Forbindinger",
            category=data.category("33140000"),
            start_date=D(2025, 1, 1),
            end_date=D(2025, 12, 31),
        )

    # then
    assert _flags(line) == (True, True)


def test_rematch_all_task_calls_the_service(monkeypatch):
    monkeypatch.setattr(
        matching,
        "lines_match",
        lambda: matching.MatchResult(supplier_matched=5, category_matched=2),
    )

    assert tasks.rematch_all_regions.delay().get() == 5
