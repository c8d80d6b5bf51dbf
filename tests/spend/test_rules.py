"""Mapping precedence, exclusion, and re-mapping after a rule change (spend/matching.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from spend import matching, rules, tasks
from spend.models import ExclusionRule, LedgerLine, MappingRule
from tests.spend import spend_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tree(db):
    data.tree()


@pytest.fixture
def rm(regions):
    return regions["RM"]


@pytest.fixture
def rsd(regions):
    return regions["RSD"]


def _rule(region=None, *, code: str, priority: int = 100, **fields) -> MappingRule:
    fields.setdefault("kind", MappingRule.Kind.ACCOUNT_RANGE)
    return MappingRule.objects.create(
        region=region, priority=priority, category=data.category(code), **fields
    )


def _category(line: LedgerLine) -> str | None:
    line.refresh_from_db()
    return line.category.code if line.category_id else None


def test_a_valid_own_code_beats_every_rule(rm):
    _rule(rm, code="30190000", priority=1, account_from="4000", account_to="4999")
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"account": "4500", "category_code": "33141110"})

    matching.after_lines_loaded(batch)

    assert _category(line) == "33141110"


def test_a_code_missing_from_the_tree_falls_through_to_the_rules(rm):
    _rule(rm, code="30190000", account_from="4000", account_to="4999")
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"account": "4500", "category_code": "99999999"})

    matching.after_lines_loaded(batch)

    assert _category(line) == "30190000"


def test_a_seven_digit_code_is_read_with_its_leading_zero(rm):
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"category_code": "3111000"})

    matching.after_lines_loaded(batch)

    assert _category(line) == "03111000"


def test_the_lower_priority_number_wins(rm):
    _rule(rm, code="30190000", priority=20, account_from="4000", account_to="4999")
    _rule(rm, code="85100000", priority=10, account_from="4500", account_to="4599")
    batch = data.batch(rm)
    inner, outer = data.lines(batch, {"account": "4550"}, {"account": "4900"})

    matching.after_lines_loaded(batch)

    assert _category(inner) == "85100000"
    assert _category(outer) == "30190000"


def test_region_and_common_rules_are_ordered_by_priority(rm):
    _rule(None, code="85100000", priority=10, kind="supplier", supplier_id="11111111")
    _rule(rm, code="30190000", priority=20, kind="supplier", supplier_id="11111111")
    _rule(None, code="33600000", priority=30, kind="supplier", supplier_id="22222222")
    _rule(rm, code="33141000", priority=30, kind="supplier", supplier_id="22222222")
    batch = data.batch(rm)
    common_first, region_on_tie = data.lines(
        batch, {"supplier_id": "11111111"}, {"supplier_id": "22222222"}
    )

    matching.after_lines_loaded(batch)

    # A common rule with a lower number wins; at equal priority the region's rule does.
    assert _category(common_first) == "85100000"
    assert _category(region_on_tie) == "33141000"


def test_another_regions_rule_and_an_inactive_rule_do_not_apply(rm, rsd):
    _rule(rsd, code="85100000", priority=1, account_from="4000", account_to="4999")
    _rule(rm, code="30190000", priority=2, account_from="4000", account_to="4999", active=False)
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"account": "4500"})

    matching.after_lines_loaded(batch)

    assert _category(line) is None


def test_unmapped_lines_stay_unclassified(rm):
    _rule(rm, code="30190000", account_from="4000", account_to="4999")
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"account": "5000", "category_code": ""})

    result = matching.after_lines_loaded(batch)

    assert _category(line) is None
    assert (result.lines, result.mapped, result.unmapped) == (1, 0, 1)


@pytest.mark.parametrize(
    ("account", "mapped"),
    [
        ("4000", True),
        ("04500", True),  # leading zeros: compared as the number 4500
        ("4999", True),
        ("5000", False),
        ("45000", False),  # as text "45000" would sort between "4000" and "4999"
        ("400", False),
        ("", False),
    ],
)
def test_digit_accounts_compare_as_numbers(rm, account, mapped):
    _rule(rm, code="30190000", account_from="4000", account_to="4999")
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"account": account})

    matching.after_lines_loaded(batch)

    assert (_category(line) == "30190000") is mapped


def test_text_accounts_compare_as_text(rm):
    _rule(rm, code="30190000", account_from="A100", account_to="A199")
    batch = data.batch(rm)
    inside, outside = data.lines(batch, {"account": "A150"}, {"account": "B100"})

    matching.after_lines_loaded(batch)

    assert _category(inside) == "30190000"
    assert _category(outside) is None


def test_a_single_account_rule_and_the_cost_centre(rm):
    _rule(
        rm,
        code="85100000",
        kind=MappingRule.Kind.ACCOUNT_COST_CENTRE,
        account_from="4100",
        cost_centre="K17",
    )
    batch = data.batch(rm)
    hit, other_centre, other_account = data.lines(
        batch,
        {"account": "4100", "cost_centre": "K17"},
        {"account": "4100", "cost_centre": "K18"},
        {"account": "4101", "cost_centre": "K17"},
    )

    matching.after_lines_loaded(batch)

    assert [_category(x) for x in (hit, other_centre, other_account)] == ["85100000", None, None]


# Exclusion ---------------------------------------------------------------------------------------


def test_exclusion_by_account_range(rm):
    ExclusionRule.objects.create(
        kind="account_range", account_from="9000", account_to="9999", reason="Løn"
    )
    batch = data.batch(rm)
    salary, purchase = data.lines(
        batch, {"account": "9100", "category_code": "85100000"}, {"account": "4100"}
    )

    result = matching.after_lines_loaded(batch)

    salary.refresh_from_db()
    purchase.refresh_from_db()
    assert (salary.is_excluded, purchase.is_excluded) == (True, False)
    assert result.excluded == 1


def test_exclusion_by_the_mapped_category(rm):
    # Medicine through Amgros: CPV group 336, whether coded on the line or mapped by a rule.
    ExclusionRule.objects.create(
        region=rm, kind="category", category_prefix="336", reason="Medicin via Amgros"
    )
    _rule(rm, code="33600000", kind="supplier", supplier_id="44444444")
    batch = data.batch(rm)
    coded, by_rule, other = data.lines(
        batch,
        {"category_code": "33600000"},
        {"supplier_id": "44444444"},
        {"category_code": "33141110"},
    )

    matching.after_lines_loaded(batch)

    flags = []
    for line in (coded, by_rule, other):
        line.refresh_from_db()
        flags.append(line.is_excluded)
    assert flags == [True, True, False]


def test_another_regions_exclusion_rule_does_not_apply(rm, rsd):
    ExclusionRule.objects.create(region=rsd, kind="account_range", account_from="9000", reason="x")
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"account": "9000"})

    matching.after_lines_loaded(batch)

    line.refresh_from_db()
    assert not line.is_excluded


# Re-mapping after a rule change --------------------------------------------------------------------


def test_remap_after_a_rule_change_updates_the_current_lines(rm):
    # given lines mapped by a rule, and a replaced batch
    rule = _rule(rm, code="30190000", account_from="4000", account_to="4999")
    current = data.batch(rm)
    old = data.batch(rm, current=False)
    (line,) = data.lines(current, {"account": "4500"})
    (old_line,) = data.lines(old, {"account": "4500"})
    matching.after_lines_loaded(current)
    assert _category(line) == "30190000"

    # when the rule points elsewhere and a salary exclusion is added
    rule.category = data.category("85100000")
    rule.save()
    exclusion = ExclusionRule.objects.create(
        kind="account_range", account_from="4500", reason="Løn"
    )
    matching.region_remap(region=rm)

    # then the current line follows; the replaced batch is left alone
    line.refresh_from_db()
    assert (_category(line), line.is_excluded) == ("85100000", True)
    assert _category(old_line) is None

    # and deleting the rule and the exclusion undoes both
    rule.delete()
    exclusion.delete()
    matching.region_remap(region=rm)
    line.refresh_from_db()
    assert (_category(line), line.is_excluded) == (None, False)


def test_remap_also_rematches_the_category(rm):
    data.contract(rm, "11111111", dt.date(2025, 1, 1), dt.date(2025, 12, 31), code="30000000")
    batch = data.batch(rm)
    (line,) = data.lines(batch, {"account": "4500"})
    matching.after_lines_loaded(batch)
    line.refresh_from_db()
    assert (line.supplier_matched, line.category_matched) == (True, False)

    _rule(rm, code="30190000", account_from="4000", account_to="4999")
    matching.region_remap(region=rm)

    line.refresh_from_db()
    assert (line.supplier_matched, line.category_matched) == (True, True)


def test_remap_task_calls_the_service(rm, monkeypatch):
    called = []

    def fake(*, region):
        called.append(region)
        return matching.MapResult(lines=2, mapped=1, unmapped=1, excluded=0)

    monkeypatch.setattr(matching, "region_remap", fake)

    assert tasks.remap_region.delay(rm.pk).get() == {"lines": 2, "unmapped": 1, "excluded": 0}
    assert called == [rm]


# The checks shared by the forms and the API ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "account_range", "account_from": ""}, "account_from"),
        ({"kind": "account_range", "account_from": "5000", "account_to": "4000"}, "account_to"),
        ({"kind": "account_range", "account_from": "900", "account_to": "1000"}, None),
        ({"kind": "account_cost_centre", "account_from": "4000", "cost_centre": ""}, "cost_centre"),
        ({"kind": "supplier", "supplier_id": " "}, "supplier_id"),
    ],
)
def test_mapping_rule_checks(data, field):
    if field is None:
        assert rules.clean_mapping_rule(data)["account_to"] == "1000"
        return
    with pytest.raises(ValidationError) as error:
        rules.clean_mapping_rule(data)
    assert field in error.value.message_dict


def test_a_supplier_rule_drops_the_account_fields():
    cleaned = rules.clean_mapping_rule(
        {
            "kind": "supplier",
            "supplier_id": " 12345678 ",
            "account_from": "4000",
            "cost_centre": "K",
        }
    )
    assert (cleaned["supplier_id"], cleaned["account_from"], cleaned["cost_centre"]) == (
        "12345678",
        "",
        "",
    )


def test_an_exclusion_by_a_whole_code_means_its_subtree():
    cleaned = rules.clean_exclusion_rule(
        {"kind": "category", "category_prefix": "33600000-1", "reason": "Medicin"}
    )
    assert cleaned["category_prefix"] == "336"
