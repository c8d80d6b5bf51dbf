"""Reads of the registry: who sees what, filters, the pipeline and joint-tender candidates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from suppliers import selectors
from tests.suppliers.conftest import TODAY

pytestmark = pytest.mark.django_db


def _titles(contracts) -> set[str]:
    return {c.title for c in contracts}


@pytest.fixture
def two_regions(make_contract):
    make_contract("RM", title="RM-katetre")
    make_contract("RSD", title="RSD-katetre")


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("officer_rm", {"RM-katetre"}),
        ("officer_rsd", {"RSD-katetre"}),
        ("chief", {"RM-katetre"}),
        ("ufo_member", {"RM-katetre", "RSD-katetre"}),
        ("secretariat", {"RM-katetre", "RSD-katetre"}),
        ("outsider", set()),
        ("anonymous", set()),
    ],
)
def test_who_sees_which_contracts(persona, expected, request, two_regions):
    user = request.getfixturevalue(persona)

    assert _titles(selectors.contracts_visible_to(user)) == expected


def _filtered(params: dict, user, today=TODAY) -> set[str]:
    contracts = selectors.contracts_visible_to(user)
    return _titles(selectors.ContractFilter(params, queryset=contracts, today=today).qs)


def test_filter_by_category_prefix_with_or_without_check_digit(secretariat, make_contract):
    make_contract("RM", title="Katetre", category="33141200")
    make_contract("RM", title="Tolkning", category="79540000")

    assert _filtered({"category": "3314"}, secretariat) == {"Katetre"}
    assert _filtered({"category": "33141200-2"}, secretariat) == {"Katetre"}
    assert _filtered({"category": "79000000"}, secretariat) == {"Tolkning"}


def test_active_on_counts_exercised_extensions_and_both_end_days(secretariat, make_contract):
    make_contract(
        "RM",
        title="Forlænget",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2025, 12, 31),
        extended_until=dt.date(2026, 6, 30),
    )
    make_contract(
        "RM", title="Udløbet", start_date=dt.date(2024, 1, 1), end_date=dt.date(2025, 12, 31)
    )

    assert _filtered({"active_on": "2026-06-30"}, secretariat) == {"Forlænget"}
    assert _filtered({"active_on": "2026-07-01"}, secretariat) == set()
    assert _filtered({"active_on": "2025-12-31"}, secretariat) == {"Forlænget", "Udløbet"}
    assert _filtered({"active_on": "2023-12-31"}, secretariat) == set()


def test_filter_joint_own_kind_after_the_fact_and_search(secretariat, make_contract, make_tender):
    make_tender("FUP-2024-001")
    make_contract("RM", title="Fælles", tender="FUP-2024-001", supplier_name="Øresund Medico A/S")
    make_contract("RM", title="Egen", registered_after_the_fact=True, kind="one_off")

    assert _filtered({"joint": "true"}, secretariat) == {"Fælles"}
    assert _filtered({"joint": "false"}, secretariat) == {"Egen"}
    assert _filtered({"kind": "one_off"}, secretariat) == {"Egen"}
    assert _filtered({"registered_after_the_fact": "true"}, secretariat) == {"Egen"}
    assert _filtered({"q": "øresund"}, secretariat) == {"Fælles"}
    assert _filtered({"q": "FUP-2024"}, secretariat) == {"Fælles"}
    assert _filtered({"supplier": "Øresund"}, secretariat) == {"Fælles"}


def test_filter_by_region_never_shows_more_than_the_user_may_see(officer_rsd, two_regions):
    assert _filtered({"region": "RM"}, officer_rsd) == set()
    assert _filtered({"region": "RSD"}, officer_rsd) == {"RSD-katetre"}


# The pipeline ---------------------------------------------------------------------------------


@pytest.fixture
def pipeline_fixture(make_contract):
    """RM: ends in 6, 18 and 30 months and one already ended; RSD: extended into 11 months."""
    make_contract("RM", title="Om 6 mdr", end_date=dt.date(2026, 9, 15), annual_value=100)
    make_contract("RM", title="Om 18 mdr", end_date=dt.date(2027, 9, 15), annual_value=200)
    make_contract("RM", title="Om 30 mdr", end_date=dt.date(2028, 9, 15), annual_value=400)
    make_contract("RM", title="Udløbet", end_date=dt.date(2026, 3, 14))
    make_contract(
        "RSD",
        title="Forlænget",
        category="79540000",
        end_date=dt.date(2026, 1, 31),
        extended_until=dt.date(2027, 2, 15),
        annual_value=Decimal("50.5"),
    )
    make_contract("RSD", title="Præcis 24 mdr", category="79540000", end_date=dt.date(2028, 3, 15))


def test_pipeline_counts_contracts_ending_within_12_and_24_months(secretariat, pipeline_fixture):
    # when
    pipeline = selectors.contract_pipeline(
        contracts=selectors.contracts_visible_to(secretariat), today=TODAY
    )

    # then
    regions = {row.key: row for row in pipeline.by_region}
    assert regions["RM"].within_12.contracts == 1
    assert regions["RM"].within_24.contracts == 2
    assert regions["RM"].within_24.annual_value == Decimal("300")
    assert regions["RSD"].within_12.contracts == 1
    assert regions["RSD"].within_24.contracts == 2
    assert regions["RSD"].within_12.annual_value == Decimal("50.5")
    groups = {row.key: row for row in pipeline.by_category}
    assert groups["33100000"].within_24.contracts == 2
    assert groups["79500000"].region_list == [("RSD", 2)]
    assert [c.title for c in pipeline.contracts] == [
        "Om 6 mdr",
        "Forlænget",
        "Om 18 mdr",
        "Præcis 24 mdr",
    ]


def test_pipeline_of_an_officer_holds_only_their_region(officer_rsd, pipeline_fixture):
    pipeline = selectors.contract_pipeline(
        contracts=selectors.contracts_visible_to(officer_rsd), today=TODAY
    )

    assert [row.key for row in pipeline.by_region] == ["RSD"]


# Joint-tender candidates -------------------------------------------------------------------------


def test_two_regions_ending_within_a_year_in_one_cpv_group_are_a_candidate(
    secretariat, make_contract
):
    # given: same group 331 (katetre 33141200 and the group code itself), 11½ months apart
    make_contract("RM", title="RM katetre", end_date=dt.date(2027, 3, 1))
    make_contract("RSD", title="RSD udstyr", category="33100000", end_date=dt.date(2028, 2, 15))

    # when
    candidates = selectors.joint_tender_candidates(user=secretariat, today=TODAY)

    # then
    assert len(candidates) == 1
    candidate = candidates[0]
    assert candidate.group_code == "33100000"
    assert candidate.label == "Medicinsk udstyr"
    assert candidate.regions == ["RM", "RSD"]
    assert (candidate.first_end, candidate.last_end) == (dt.date(2027, 3, 1), dt.date(2028, 2, 15))


def test_more_than_a_year_apart_is_no_candidate(secretariat, make_contract):
    make_contract("RM", title="RM katetre", end_date=dt.date(2027, 3, 1))
    make_contract("RSD", title="RSD katetre", end_date=dt.date(2028, 3, 2))

    assert selectors.joint_tender_candidates(user=secretariat, today=TODAY) == []


def test_other_groups_one_region_and_ended_contracts_are_no_candidate(secretariat, make_contract):
    make_contract("RM", title="Katetre", end_date=dt.date(2027, 3, 1))
    make_contract("RM", title="Flere katetre", end_date=dt.date(2027, 4, 1))
    make_contract("RSD", title="Lægemidler", category="33600000", end_date=dt.date(2027, 3, 1))
    make_contract("RSD", title="Udløbne katetre", end_date=dt.date(2026, 3, 1))

    assert selectors.joint_tender_candidates(user=secretariat, today=TODAY) == []


def test_an_extension_moves_the_end_into_the_window(secretariat, make_contract):
    make_contract("RM", title="RM katetre", end_date=dt.date(2027, 3, 1))
    make_contract(
        "RSD",
        title="RSD katetre",
        end_date=dt.date(2026, 1, 31),
        extended_until=dt.date(2027, 9, 1),
    )

    [candidate] = selectors.joint_tender_candidates(user=secretariat, today=TODAY)

    assert candidate.regions == ["RM", "RSD"]


def test_an_officer_sees_other_regions_contracts_in_a_candidate_only_as_region_and_end(
    officer_rsd, make_contract
):
    make_contract("RM", title="RM hemmelig aftale", end_date=dt.date(2027, 3, 1))
    make_contract("RSD", title="RSD katetre", end_date=dt.date(2027, 6, 1))

    [candidate] = selectors.joint_tender_candidates(user=officer_rsd, today=TODAY)

    visible = {e.contract.region.code: e.visible for e in candidate.entries}
    assert visible == {"RM": False, "RSD": True}


def test_contracts_of_one_joint_tender_are_already_joint(secretariat, make_contract, make_tender):
    make_tender("FUP-2024-002")
    make_contract("RM", end_date=dt.date(2027, 3, 1), tender="FUP-2024-002")
    make_contract("RSD", end_date=dt.date(2027, 3, 1), tender="FUP-2024-002")

    assert selectors.joint_tender_candidates(user=secretariat, today=TODAY) == []


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert selectors.add_months(dt.date(2026, 3, 15), 12) == dt.date(2027, 3, 15)
    assert selectors.add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert selectors.add_months(dt.date(2026, 8, 31), 18) == dt.date(2028, 2, 29)
