"""Writes to the supplier register and the contract registry: rules, rights, history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from celery import shared_task
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from rfi.models import Membership
from suppliers import services
from suppliers.models import Contract, Supplier
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


# Suppliers -------------------------------------------------------------------------------------


def test_upsert_keeps_one_supplier_per_identifier_and_takes_the_newest_name(officer_rm):
    # given
    first = services.supplier_upsert(identifier="31457826", name="Nordisk Medico", actor=officer_rm)

    # when
    again = services.supplier_upsert(
        identifier=" 3145 7826 ", name="Nordisk Hospitalsudstyr A/S", actor=officer_rm
    )

    # then
    assert again.pk == first.pk
    assert Supplier.objects.filter(identifier="31457826").count() == 1
    assert Supplier.objects.get(identifier="31457826").name == "Nordisk Hospitalsudstyr A/S"


def test_upsert_without_a_name_keeps_the_known_name(officer_rm):
    services.supplier_upsert(identifier="31457826", name="Ærø Kirurgi A/S", actor=officer_rm)

    supplier = services.supplier_upsert(identifier="31457826", name="", actor=officer_rm)

    assert supplier.name == "Ærø Kirurgi A/S"


def test_a_new_supplier_needs_a_name(officer_rm):
    with pytest.raises(ValidationError) as error:
        services.supplier_upsert(identifier="31457826", name=" ", actor=officer_rm)

    assert "name" in error.value.message_dict
    assert not Supplier.objects.exists()


def test_a_name_change_is_in_the_suppliers_history_with_who_made_it(officer_rm, officer_rsd):
    services.supplier_upsert(identifier="31457826", name="Gammelt Navn ApS", actor=officer_rm)

    services.supplier_upsert(identifier="31457826", name="Nyt Navn ApS", actor=officer_rsd)

    newest = Supplier.objects.get().history.first()
    assert newest.name == "Nyt Navn ApS"
    assert newest.history_user == officer_rsd


@pytest.mark.parametrize("identifier", ["1234567", "123456789", "1234567A", "DK-1234567", ""])
def test_a_danish_cvr_number_is_exactly_eight_digits(identifier, officer_rm):
    with pytest.raises(ValidationError) as error:
        services.supplier_upsert(identifier=identifier, name="Forkert ApS", actor=officer_rm)

    assert "identifier" in error.value.message_dict
    assert not Supplier.objects.exists()


def test_the_cvr_error_says_what_is_wrong(officer_rm):
    with pytest.raises(ValidationError) as error:
        services.supplier_upsert(identifier="1234567", name="Forkert ApS", actor=officer_rm)

    assert "8" in error.value.message_dict["identifier"][0]
    assert "1234567" in error.value.message_dict["identifier"][0]


@pytest.mark.parametrize(("country", "identifier"), [("SE", "556036-0793"), ("NO", "923609016")])
def test_other_countries_organisation_numbers_are_data(country, identifier, officer_rm):
    supplier = services.supplier_upsert(
        identifier=identifier, name="Nordic Supplies AB", country=country.lower(), actor=officer_rm
    )

    assert (supplier.identifier, supplier.country) == (identifier, country)


# Contracts: rules ------------------------------------------------------------------------------


def _supplier():
    return services.supplier_upsert(identifier="28746153", name="Sønderjysk Medico ApS")


def _fields(regions, cpv, **more):
    return {
        "region": regions["RM"],
        "supplier": _supplier(),
        "title": "Katetre",
        "category": cpv["33141200"],
        "start_date": dt.date(2025, 1, 1),
        "end_date": dt.date(2027, 12, 31),
        "kind": Contract.Kind.FRAMEWORK,
        **more,
    }


def test_an_officer_registers_a_contract_of_their_region(officer_rm, regions, cpv):
    contract = services.contract_create(
        actor=officer_rm, **_fields(regions, cpv, annual_value=Decimal("1250000.50"))
    )

    assert contract.region == regions["RM"]
    assert contract.created_by == officer_rm
    assert contract.history.get().history_user == officer_rm


def test_a_contract_cannot_end_before_it_starts(officer_rm, regions, cpv):
    with pytest.raises(ValidationError) as error:
        services.contract_create(
            actor=officer_rm, **_fields(regions, cpv, end_date=dt.date(2024, 12, 31))
        )

    assert "end_date" in error.value.message_dict
    assert not Contract.objects.exists()


def test_an_extension_cannot_end_before_the_contract(officer_rm, regions, cpv):
    with pytest.raises(ValidationError) as error:
        services.contract_create(
            actor=officer_rm, **_fields(regions, cpv, extended_until=dt.date(2027, 6, 30))
        )

    assert "extended_until" in error.value.message_dict


def test_the_end_day_itself_is_a_valid_start_and_extension(officer_rm, regions, cpv):
    contract = services.contract_create(
        actor=officer_rm,
        **_fields(
            regions,
            cpv,
            start_date=dt.date(2027, 12, 31),
            extended_until=dt.date(2027, 12, 31),
        ),
    )

    assert contract.effective_end == dt.date(2027, 12, 31)


def test_the_tender_reference_must_exist(officer_rm, regions, cpv):
    with pytest.raises(ValidationError) as error:
        services.contract_create(actor=officer_rm, **_fields(regions, cpv, tender="FUP-2099-001"))

    assert "FUP-2099-001" in error.value.message_dict["tender"][0]
    assert not Contract.objects.exists()


def test_a_joint_contract_names_its_tender_by_reference(officer_rm, regions, cpv, make_tender):
    tender = make_tender("FUP-2024-007")

    contract = services.contract_create(
        actor=officer_rm, **_fields(regions, cpv, tender="fup-2024-007")
    )

    assert contract.tender == tender
    assert contract.is_joint


def test_a_contract_needs_a_category(officer_rm, regions, cpv):
    with pytest.raises(ValidationError) as error:
        services.contract_create(actor=officer_rm, **_fields(regions, cpv, category=None))

    assert "category" in error.value.message_dict


# Contracts: rights -----------------------------------------------------------------------------


def test_an_officer_cannot_register_a_contract_for_another_region(officer_rsd, regions, cpv):
    with pytest.raises(PermissionDenied):
        services.contract_create(actor=officer_rsd, **_fields(regions, cpv))

    assert not Contract.objects.exists()


@pytest.mark.parametrize("persona", ["chief", "ufo_member", "outsider"])
def test_readers_cannot_register_contracts(persona, request, regions, cpv):
    user = request.getfixturevalue(persona)

    with pytest.raises(PermissionDenied):
        services.contract_create(actor=user, **_fields(regions, cpv))


def test_an_officer_of_rsd_cannot_change_rms_contract(officer_rsd, make_contract):
    contract = make_contract("RM", title="Katetre")

    with pytest.raises(PermissionDenied):
        services.contract_update(contract=contract, actor=officer_rsd, title="Overtaget")

    contract.refresh_from_db()
    assert contract.title == "Katetre"


def test_an_officer_cannot_move_a_contract_to_another_region(officer_rm, make_contract, regions):
    contract = make_contract("RM")

    with pytest.raises(PermissionDenied):
        services.contract_update(contract=contract, actor=officer_rm, region=regions["RSD"])

    assert Contract.objects.get(pk=contract.pk).region == regions["RM"]


def test_an_officer_of_two_regions_may_move_a_contract_between_them(
    officer_rm, make_contract, regions
):
    MembershipFactory(user=officer_rm, region=regions["RSD"], role=Membership.Role.OFFICER)
    contract = make_contract("RM")

    services.contract_update(contract=contract, actor=officer_rm, region=regions["RSD"])

    assert Contract.objects.get(pk=contract.pk).region == regions["RSD"]


def test_the_secretariat_edits_every_regions_contracts(secretariat, make_contract):
    contract = make_contract("RN")

    services.contract_update(
        contract=contract, actor=secretariat, extended_until=dt.date(2028, 12, 31)
    )

    assert Contract.objects.get(pk=contract.pk).effective_end == dt.date(2028, 12, 31)


def test_an_update_is_in_the_history_with_the_actor(officer_rm, make_contract):
    contract = make_contract("RM", annual_value=Decimal("100000"))

    services.contract_update(contract=contract, actor=officer_rm, annual_value=Decimal("250000"))

    newest, oldest = list(contract.history.order_by("-history_date"))
    assert newest.history_user == officer_rm
    assert [c.field for c in newest.diff_against(oldest).changes] == ["annual_value"]


def test_a_refused_update_changes_nothing(officer_rm, make_contract):
    contract = make_contract("RM")

    with pytest.raises(ValidationError):
        services.contract_update(contract=contract, actor=officer_rm, end_date=dt.date(2020, 1, 1))

    assert Contract.objects.get(pk=contract.pk).end_date == dt.date(2027, 12, 31)
    assert Contract.objects.get(pk=contract.pk).history.count() == 1


def test_delete_keeps_the_history_and_who_deleted(officer_rm, officer_rsd, make_contract):
    contract = make_contract("RM")
    pk = contract.pk

    with pytest.raises(PermissionDenied):
        services.contract_delete(contract=contract, actor=officer_rsd)
    services.contract_delete(contract=Contract.objects.get(pk=pk), actor=officer_rm)

    assert not Contract.objects.filter(pk=pk).exists()
    deleted = Contract.history.filter(id=pk).order_by("-history_date").first()
    assert deleted.history_type == "-"
    assert deleted.history_user == officer_rm


# After a change: the spend app re-flags the region's ledger lines -----------------------------

REMATCHED: list[int] = []


@shared_task(name="tests.suppliers.rematch_probe")
def rematch_probe(region_id: int) -> None:
    REMATCHED.append(region_id)


def test_changed_regions_are_sent_for_rematching_once_after_commit(
    monkeypatch, secretariat, regions, cpv, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "REMATCH_TASK", rematch_probe.name)
    REMATCHED.clear()

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            for code in ("RM", "RM", "RSD"):
                services.contract_create(
                    actor=secretariat, **_fields(regions, cpv, region=regions[code])
                )
        assert REMATCHED == []

    assert sorted(REMATCHED) == sorted([regions["RM"].pk, regions["RSD"].pk])


def test_without_the_spend_task_a_contract_is_saved_all_the_same(
    monkeypatch, secretariat, regions, cpv, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "REMATCH_TASK", "no.such.task")

    with django_capture_on_commit_callbacks(execute=True):
        services.contract_create(actor=secretariat, **_fields(regions, cpv))

    assert Contract.objects.count() == 1
