"""The registry over the REST API: lists filtered to what the user may read, rights as in the browser."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from rfi.services import api_token_issue
from suppliers.models import Contract, Supplier
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

NEW = {
    "region": "RM",
    "supplier_id": "28746153",
    "supplier_name": "Sønderjysk Medico ApS",
    "title": "Urologiske katetre",
    "category": "33141200-2",
    "start_date": "2025-02-01",
    "end_date": "2028-01-31",
    "annual_value": "1250000.50",
}


@pytest.fixture
def rm_contract(make_contract):
    return make_contract("RM", title="Midtjyske katetre", supplier_identifier="31457826")


@pytest.fixture
def rsd_contract(make_contract):
    return make_contract("RSD", title="Syddanske katetre", end_date=dt.date(2026, 12, 31))


def _titles(response) -> set[str]:
    return {c["title"] for c in response.json()["results"]}


def test_an_officer_lists_only_their_own_regions_contracts(officer_rsd, rm_contract, rsd_contract):
    response = client_for(officer_rsd).get(reverse("contract-list"))

    assert response.status_code == 200
    assert _titles(response) == {"Syddanske katetre"}


def test_the_list_takes_the_pages_filters(secretariat, rm_contract, rsd_contract):
    client = client_for(secretariat)

    assert _titles(client.get(reverse("contract-list"), {"region": "RM"})) == {"Midtjyske katetre"}
    assert _titles(client.get(reverse("contract-list"), {"active_on": "2027-06-01"})) == {
        "Midtjyske katetre"
    }
    assert client.get(reverse("contract-list"), {"active_on": "31-02-2027"}).status_code == 400


def test_a_contract_reads_with_supplier_category_and_effective_end(ufo_member, rm_contract):
    response = client_for(ufo_member).get(reverse("contract-detail", args=[rm_contract.pk]))

    data = response.json()
    assert data["region"] == "RM"
    assert data["supplier"]["identifier"] == "31457826"
    assert data["category"] == "33141200"
    assert data["effective_end"] == "2027-12-31"
    assert data["is_joint"] is False


def test_an_officer_of_rsd_gets_404_for_rms_contract_and_changes_nothing(officer_rsd, rm_contract):
    client = client_for(officer_rsd)
    url = reverse("contract-detail", args=[rm_contract.pk])

    read = client.get(url)
    patched = client.patch(url, {"title": "Overtaget"}, content_type="application/json")

    assert (read.status_code, patched.status_code) == (404, 404)
    assert Contract.objects.get(pk=rm_contract.pk).title == "Midtjyske katetre"


def test_rms_chief_reads_but_may_not_patch(chief, rm_contract):
    url = reverse("contract-detail", args=[rm_contract.pk])

    response = client_for(chief).patch(url, {"title": "Ændret"}, content_type="application/json")

    assert response.status_code == 403
    assert Contract.objects.get(pk=rm_contract.pk).title == "Midtjyske katetre"


def test_an_officer_registers_a_contract_with_a_token(officer_rm, regions, cpv):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=officer_rm)[0]}")

    response = client.post(reverse("contract-list"), NEW, format="json")

    assert response.status_code == 201, response.json()
    contract = Contract.objects.get(pk=response.json()["id"])
    assert contract.annual_value == Decimal("1250000.50")
    assert contract.supplier.name == "Sønderjysk Medico ApS"
    assert contract.history.get().history_user == officer_rm


@pytest.mark.parametrize(
    ("persona", "status"), [("officer_rsd", 403), ("chief", 403), ("ufo_member", 403)]
)
def test_only_rms_officers_and_the_secretariat_register_rms_contracts(
    persona, status, request, regions, cpv
):
    response = client_for(request.getfixturevalue(persona)).post(
        reverse("contract-list"), NEW, content_type="application/json"
    )

    assert response.status_code == status
    assert not Contract.objects.exists()
    assert not Supplier.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": "2024-01-01"}, "end_date"),
        ({"supplier_id": "1234567"}, "supplier_id"),
        ({"tender_reference": "FUP-2099-001"}, "tender_reference"),
        ({"category": "99999999"}, "category"),
        ({"supplier_name": ""}, "supplier_name"),
    ],
)
def test_refusals_answer_400_by_field(change, field, officer_rm, regions, cpv):
    response = client_for(officer_rm).post(
        reverse("contract-list"), {**NEW, **change}, content_type="application/json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not Contract.objects.exists()


def test_patch_changes_only_what_is_sent(officer_rm, rm_contract):
    url = reverse("contract-detail", args=[rm_contract.pk])

    response = client_for(officer_rm).patch(
        url,
        {
            "extended_until": "2028-12-31",
            "supplier_id": "31457826",
            "supplier_name": "Nyt Navn A/S",
        },
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["effective_end"] == "2028-12-31"
    contract = Contract.objects.get(pk=rm_contract.pk)
    assert contract.title == "Midtjyske katetre"
    assert contract.supplier.name == "Nyt Navn A/S"


def test_suppliers_are_read_only_for_members(officer_rm, outsider, rm_contract):
    client = client_for(officer_rm)

    listed = client.get(reverse("supplier-list"), {"q": "31457"})
    one = client.get(reverse("supplier-detail", args=["31457826"]))
    created = client.post(
        reverse("supplier-list"), {"identifier": "11111111"}, content_type="application/json"
    )

    assert [s["identifier"] for s in listed.json()["results"]] == ["31457826"]
    assert one.json()["identifier"] == "31457826"
    assert created.status_code == 405
    assert client_for(outsider).get(reverse("supplier-list")).status_code == 403
