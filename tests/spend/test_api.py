"""Spend over the REST API: aggregates and lines by rights, rules CRUD by rights."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from spend import matching
from spend.models import ExclusionRule, MappingRule
from tests.conftest import client_for
from tests.spend import spend_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(regions):
    data.tree()
    rm, rsd = regions["RM"], regions["RSD"]
    data.contract(rm, "11111111", dt.date(2025, 1, 1), dt.date(2025, 12, 31), code="33000000")
    batch = data.batch(rm)
    data.lines(
        batch,
        {"category_code": "33141110", "amount": 1000},
        {"category_code": "", "amount": 500, "supplier_id": "22222222", "account": "4100"},
        {
            "category_code": "85100000",
            "amount": 3000,
            "supplier_id": "33333333",
            "posting_date": dt.date(2025, 5, 2),
        },
    )
    matching.after_lines_loaded(batch)
    data.lines(data.batch(rsd), {"amount": 777, "category_code": "85100000"})
    return batch


def _get(user, name, **params):
    return client_for(user).get(reverse(name), params)


def test_totals_of_a_region(ledger, officer_rm):
    response = _get(officer_rm, "spend-totals", region="RM", year=2025)

    assert response.status_code == 200
    body = response.json()
    assert body["region"] == "RM"
    assert Decimal(body["total"]) == Decimal("4500.00")
    assert Decimal(body["supplier_matched_total"]) == Decimal("1000.00")
    assert Decimal(body["unclassified_share"]) == Decimal("11.1")
    assert body["lines"] == 3


def test_by_category_drills_down(ledger, officer_rm):
    top = _get(officer_rm, "spend-by-category", region="RM", year=2025).json()
    assert [(r["code"], Decimal(r["total"])) for r in top["rows"]] == [
        ("85000000", Decimal("3000.00")),
        ("33000000", Decimal("1000.00")),
        ("", Decimal("500.00")),
    ]

    down = _get(officer_rm, "spend-by-category", region="RM", year=2025, prefix="33").json()
    assert [r["digits"] for r in down["rows"]] == ["331"]


def test_by_supplier_and_by_month(ledger, officer_rm):
    suppliers = _get(officer_rm, "spend-by-supplier", region="RM", year=2025, limit=2).json()
    assert [r["supplier_id"] for r in suppliers["rows"]] == ["33333333", "11111111"]
    assert suppliers["suppliers"] == 3

    months = _get(officer_rm, "spend-by-month", region="RM", year=2025).json()
    assert [(r["month"], Decimal(r["total"])) for r in months["rows"]] == [
        (3, Decimal("1500.00")),
        (5, Decimal("3000.00")),
    ]


def test_a_bad_limit_is_400(ledger, officer_rm):
    assert _get(officer_rm, "spend-by-supplier", limit="x").status_code == 400
    assert _get(officer_rm, "spend-by-supplier", limit=0).status_code == 400


@pytest.mark.parametrize(
    "name", ["spend-totals", "spend-by-category", "spend-by-supplier", "spend-by-month"]
)
def test_an_officer_of_rsd_cannot_read_rms_aggregates(ledger, officer_rsd, name):
    assert _get(officer_rsd, name, region="RM").status_code == 403
    assert _get(officer_rsd, name, region="all").status_code == 403


@pytest.mark.parametrize("persona", ["chief", "ufo_member", "secretariat"])
def test_all_regions_added_up_for_chiefs_ufo_and_secretariat(ledger, persona, request):
    user = request.getfixturevalue(persona)

    body = _get(user, "spend-totals", region="all", year=2025).json()

    assert Decimal(body["total"]) == Decimal("5277.00")


def test_ledger_lines_only_of_the_users_regions(ledger, officer_rsd, officer_rm, secretariat):
    rsd = _get(officer_rsd, "ledgerline-list").json()["results"]
    assert {line["region"] for line in rsd} == {"RSD"}

    rm = _get(officer_rm, "ledgerline-list", region="RSD").json()["results"]
    assert rm == []

    everything = _get(secretariat, "ledgerline-list").json()["results"]
    assert {line["region"] for line in everything} == {"RM", "RSD"}


def test_ledger_lines_filters(ledger, officer_rm):
    unmapped = _get(officer_rm, "ledgerline-list", unmapped="true").json()["results"]
    assert [line["account"] for line in unmapped] == ["4100"]

    matched = _get(officer_rm, "ledgerline-list", supplier_matched="true").json()["results"]
    assert [line["category"] for line in matched] == ["33141110"]

    division = _get(officer_rm, "ledgerline-list", category="85").json()["results"]
    assert [Decimal(line["amount"]) for line in division] == [Decimal("3000.00")]


# Rules -------------------------------------------------------------------------------------------

RULE = {"kind": "supplier", "supplier_id": "22222222", "category": "33141110-0", "priority": 5}


def _post(user, name, body):
    return client_for(user).post(reverse(name), body, content_type="application/json")


def test_an_officer_creates_a_rule_for_their_region(ledger, officer_rm):
    response = _post(officer_rm, "mappingrule-list", {**RULE, "region": "RM"})

    assert response.status_code == 201, response.json()
    rule = MappingRule.objects.get()
    assert (rule.region.code, rule.category.code, rule.account_from) == ("RM", "33141110", "")


@pytest.mark.parametrize(
    ("persona", "region"),
    [("officer_rm", None), ("officer_rm", "RSD"), ("chief", "RM"), ("ufo_member", "RM")],
)
def test_rules_outside_ones_rights_are_refused(ledger, persona, region, request):
    user = request.getfixturevalue(persona)

    response = _post(user, "mappingrule-list", {**RULE, "region": region})

    assert response.status_code == 403
    assert not MappingRule.objects.exists()


def test_the_secretariat_creates_a_common_rule(ledger, secretariat):
    response = _post(
        secretariat,
        "exclusionrule-list",
        {"kind": "category", "category_prefix": "336", "reason": "Medicin"},
    )

    assert response.status_code == 201, response.json()
    assert ExclusionRule.objects.get().region is None


def test_a_rule_missing_its_field_is_400(ledger, officer_rm):
    response = _post(
        officer_rm,
        "mappingrule-list",
        {"kind": "account_range", "category": "33141110", "region": "RM"},
    )

    assert response.status_code == 400
    assert "account_from" in response.json()


def test_an_officer_cannot_move_or_delete_a_common_rule(ledger, officer_rm):
    rule = MappingRule.objects.create(
        kind="supplier", supplier_id="1", category=data.category("33000000")
    )
    url = reverse("mappingrule-detail", kwargs={"pk": rule.pk})
    client = client_for(officer_rm)

    assert client.get(url).status_code == 200  # members read the common rules
    assert client.patch(url, {"region": "RM"}, content_type="application/json").status_code == 403
    assert client.delete(url).status_code == 403
    rule.refresh_from_db()
    assert rule.region is None


def test_another_regions_rules_are_not_listed(ledger, officer_rsd, regions):
    MappingRule.objects.create(
        region=regions["RM"], kind="supplier", supplier_id="1", category=data.category("33000000")
    )
    rule = MappingRule.objects.create(
        region=regions["RSD"], kind="supplier", supplier_id="2", category=data.category("33000000")
    )

    listed = _get(officer_rsd, "mappingrule-list").json()["results"]

    assert [r["id"] for r in listed] == [rule.pk]


def test_an_officer_updates_their_regions_rule(ledger, officer_rm, regions):
    rule = MappingRule.objects.create(
        region=regions["RM"],
        kind="account_range",
        account_from="4000",
        category=data.category("33000000"),
    )

    response = client_for(officer_rm).patch(
        reverse("mappingrule-detail", kwargs={"pk": rule.pk}),
        {"account_to": "4999"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    rule.refresh_from_db()
    assert rule.account_to == "4999"
