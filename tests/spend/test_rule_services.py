"""Writing rules through spend/rules.py: rights, validation and history, by every path."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from spend import rules
from spend.models import ColumnMapping, ExclusionRule, MappingRule
from tests.conftest import client_for
from tests.spend import spend_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture
def category(db):
    return data.category("33141110")


def _supplier_rule(region, category) -> dict:
    return {"region": region, "kind": "supplier", "supplier_id": "12345678", "category": category}


# Rights ----------------------------------------------------------------------------------------


def test_an_officer_of_rm_saves_a_rule_for_rm(officer_rm, regions, category):
    rule = rules.mapping_rule_save(actor=officer_rm, **_supplier_rule(regions["RM"], category))

    assert MappingRule.objects.get().pk == rule.pk
    assert rule.region.code == "RM"


@pytest.mark.parametrize(
    "save",
    [
        lambda actor, region, category: rules.mapping_rule_save(
            actor=actor, **_supplier_rule(region, category)
        ),
        lambda actor, region, category: rules.exclusion_rule_save(
            actor=actor, region=region, kind="category", category_prefix="336", reason="Medicin"
        ),
        lambda actor, region, category: rules.column_mapping_save(
            actor=actor, region=region, source_header="Kreditor", canonical="supplier_id"
        ),
    ],
    ids=["mapping", "exclusion", "column"],
)
def test_an_officer_of_rm_cannot_save_a_rule_for_rh(officer_rm, regions, category, save):
    with pytest.raises(PermissionDenied):
        save(officer_rm, regions["RH"], category)

    assert not MappingRule.objects.exists()
    assert not ExclusionRule.objects.exists()
    assert not ColumnMapping.objects.exists()


@pytest.mark.parametrize("persona", ["officer_rm", "chief", "ufo_member", "outsider"])
def test_only_the_secretariat_saves_a_common_rule(persona, request, regions, category):
    user = request.getfixturevalue(persona)

    with pytest.raises(PermissionDenied):
        rules.mapping_rule_save(actor=user, **_supplier_rule(None, category))

    assert not MappingRule.objects.exists()


def test_an_officer_cannot_move_another_regions_rule_into_their_own(
    officer_rm, secretariat, regions, category
):
    rule = rules.mapping_rule_save(actor=secretariat, **_supplier_rule(regions["RH"], category))

    # the officer's form (or the admin) has already set the new region in memory
    rule.region = regions["RM"]
    with pytest.raises(PermissionDenied):
        rules.mapping_rule_save(actor=officer_rm, rule=rule, region=regions["RM"])

    rule.refresh_from_db()
    assert rule.region.code == "RH"


def test_an_officer_cannot_delete_another_regions_rule(officer_rm, secretariat, regions):
    rule = rules.exclusion_rule_save(
        actor=secretariat, region=regions["RH"], kind="category", category_prefix="336", reason="x"
    )

    with pytest.raises(PermissionDenied):
        rules.rule_delete(actor=officer_rm, rule=rule)

    assert ExclusionRule.objects.filter(pk=rule.pk).exists()


# Validation ------------------------------------------------------------------------------------


def test_a_mapping_rule_without_its_account_is_refused_by_field(officer_rm, regions, category):
    with pytest.raises(ValidationError) as caught:
        rules.mapping_rule_save(
            actor=officer_rm, region=regions["RM"], kind="account_range", category=category
        )

    assert "account_from" in caught.value.message_dict
    assert not MappingRule.objects.exists()


def test_a_mapping_rule_without_a_category_is_refused(officer_rm, regions):
    with pytest.raises(ValidationError) as caught:
        rules.mapping_rule_save(
            actor=officer_rm, region=regions["RM"], kind="supplier", supplier_id="1"
        )

    assert "category" in caught.value.message_dict


def test_an_exclusion_rule_keeps_only_its_kinds_fields(officer_rm, regions):
    rule = rules.exclusion_rule_save(
        actor=officer_rm,
        region=regions["RM"],
        kind="category",
        account_from="4000",
        category_prefix="33600000",
        reason=" Medicin ",
    )

    rule.refresh_from_db()
    assert (rule.account_from, rule.category_prefix, rule.reason) == ("", "336", "Medicin")


def test_a_column_mapping_names_a_column_the_importer_reads(officer_rm, regions):
    with pytest.raises(ValidationError) as caught:
        rules.column_mapping_save(
            actor=officer_rm, region=regions["RM"], source_header="Konto", canonical="nonsense"
        )

    assert "canonical" in caught.value.message_dict


def test_a_second_column_mapping_for_the_same_header_is_refused(officer_rm, regions):
    fields = {"region": regions["RM"], "source_header": "Kreditor", "canonical": "supplier_id"}
    rules.column_mapping_save(actor=officer_rm, **fields)

    with pytest.raises(ValidationError):
        rules.column_mapping_save(actor=officer_rm, **fields)

    assert ColumnMapping.objects.count() == 1


def test_an_unknown_field_is_a_programming_error(officer_rm, regions, category):
    with pytest.raises(TypeError):
        rules.mapping_rule_save(
            actor=officer_rm, colour="red", **_supplier_rule(regions["RM"], category)
        )


# History ---------------------------------------------------------------------------------------


def test_the_history_names_who_created_changed_and_deleted_a_rule(officer_rm, regions, category):
    rule = rules.mapping_rule_save(actor=officer_rm, **_supplier_rule(regions["RM"], category))
    rules.mapping_rule_save(actor=officer_rm, rule=rule, supplier_id="87654321")
    pk = rule.pk
    rules.rule_delete(actor=officer_rm, rule=rule)

    history = MappingRule.history.filter(id=pk).order_by("history_date")
    assert [(h.history_type, h.history_user, h.supplier_id) for h in history] == [
        ("+", officer_rm, "12345678"),
        ("~", officer_rm, "87654321"),
        ("-", officer_rm, "87654321"),
    ]


# The three paths call the services -------------------------------------------------------------


def test_the_api_saves_through_the_service_with_history(officer_rm, regions, category):
    response = client_for(officer_rm).post(
        reverse("exclusionrule-list"),
        {"region": "RM", "kind": "category", "category_prefix": "336", "reason": "Medicin"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    assert ExclusionRule.history.get().history_user == officer_rm


def test_the_admin_refuses_a_rule_the_service_refuses(secretariat, regions, category):
    client = client_for(secretariat)

    response = client.post(
        reverse("admin:spend_mappingrule_add"),
        {
            "region": regions["RM"].pk,
            "priority": 1,
            "kind": "account_range",
            "category": category.pk,
            "active": "on",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert "account_from" in response.context["adminform"].form.errors
    assert not MappingRule.objects.exists()


def test_the_admin_saves_and_deletes_through_the_service(secretariat, regions, category):
    client = client_for(secretariat)

    added = client.post(
        reverse("admin:spend_mappingrule_add"),
        {
            "region": regions["RM"].pk,
            "priority": 1,
            "kind": "supplier",
            "account_from": "4000",
            "supplier_id": "42",
            "category": category.pk,
            "active": "on",
        },
    )
    rule = MappingRule.objects.get()
    deleted = client.post(
        reverse("admin:spend_mappingrule_delete", args=[rule.pk]), {"post": "yes"}
    )

    assert (added.status_code, deleted.status_code) == (302, 302)
    assert rule.account_from == ""  # the service cleared the field a supplier rule does not use
    assert not MappingRule.objects.exists()
    assert [h.history_user for h in MappingRule.history.order_by("history_date")] == [
        secretariat,
        secretariat,
    ]
