"""The shared API kit (rfi/api.py): CPV codes with their check digit, and a service's errors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rfi.models import Category
from spend.models import MappingRule
from suppliers.models import Contract
from tenders import services
from tenders.models import TenderCase
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def catheters(db) -> Category:
    division = Category.objects.create(
        code="33000000", check_digit="0", label_da="Medicinsk udstyr", level=1
    )
    return Category.objects.create(
        code="33141200", check_digit="2", label_da="Katetre", level=5, parent=division
    )


def _post(user, name: str, body: dict):
    return client_for(user).post(reverse(name), body, content_type="application/json")


def _tender(**more) -> dict:
    return {"title": "Katetre", "area": "medico_acquisitions", "kind": "framework", **more}


@pytest.mark.parametrize("code", ["33141200", "33141200-2"])
def test_a_tender_is_logged_by_cpv_code_with_or_without_its_check_digit(
    catheters, officer_rm, regions, code
):
    response = _post(officer_rm, "tender-list", _tender(category=code, lead_region="RM"))

    assert response.status_code == 201, response.json()
    assert response.json()["category"] == "33141200"


def test_a_wrong_check_digit_answers_400_on_the_tender_api(catheters, officer_rm, regions):
    response = _post(officer_rm, "tender-list", _tender(category="33141200-9", lead_region="RM"))

    assert response.status_code == 400
    assert response.json() == {"category": ["Kontrolcifferet for 33141200 er 2, ikke 9."]}
    assert not TenderCase.objects.exists()


def test_an_unknown_code_answers_400_on_the_tender_api(catheters, officer_rm, regions):
    response = _post(officer_rm, "tender-list", _tender(category="44444444", lead_region="RM"))

    assert response.status_code == 400
    assert response.json() == {"category": ["CPV-koden 44444444 findes ikke."]}


def test_a_wrong_check_digit_answers_400_on_the_contract_api(catheters, officer_rm, regions):
    body = {
        "region": "RM",
        "supplier_id": "28746153",
        "supplier_name": "Sønderjysk Medico ApS",
        "title": "Urologiske katetre",
        "category": "33141200-7",
        "kind": "framework",
        "start_date": "2025-02-01",
        "end_date": "2028-01-31",
    }

    refused = _post(officer_rm, "contract-list", body)
    accepted = _post(officer_rm, "contract-list", {**body, "category": "33141200-2"})

    assert refused.status_code == 400
    assert list(refused.json()) == ["category"]
    assert accepted.status_code == 201, accepted.json()
    assert Contract.objects.count() == 1


def test_a_wrong_check_digit_answers_400_on_the_mapping_rule_api(catheters, officer_rm, regions):
    rule = {"kind": "supplier", "supplier_id": "22222222", "priority": 5, "region": "RM"}

    refused = _post(officer_rm, "mappingrule-list", {**rule, "category": "33141200-1"})
    accepted = _post(officer_rm, "mappingrule-list", {**rule, "category": "33141200-2"})

    assert refused.status_code == 400
    assert refused.json() == {"category": ["Kontrolcifferet for 33141200 er 2, ikke 1."]}
    assert accepted.status_code == 201, accepted.json()
    assert MappingRule.objects.get().category == catheters


def test_a_services_permission_denied_answers_403_with_its_reason(catheters, officer_rm, regions):
    # An officer may log cases, but only ones their own region leads: the service says so.
    response = _post(officer_rm, "tender-list", _tender(category="33141200", lead_region="RSD"))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Indkøbskonsulenter opretter sager, som deres egen region er tovholder på."
    }


def test_a_services_validation_error_answers_400_by_the_inputs_field_names(
    catheters, officer_rm, regions
):
    # The service calls it "identifier"; the contract API's input calls it supplier_id.
    body = {
        "region": "RM",
        "supplier_id": "1234",
        "supplier_name": "Sønderjysk Medico ApS",
        "title": "Urologiske katetre",
        "category": "33141200",
        "kind": "framework",
        "start_date": "2025-02-01",
        "end_date": "2028-01-31",
    }

    response = _post(officer_rm, "contract-list", body)

    assert response.status_code == 400
    assert list(response.json()) == ["supplier_id"]
    assert not Contract.objects.exists()


def test_a_services_error_without_a_field_answers_400_as_non_field_errors(
    catheters, ufo_member, regions
):
    candidate = services.candidate_create(
        actor=ufo_member, title="Katetre", category=catheters, plan_year=2027
    )

    response = client_for(ufo_member).post(
        reverse("candidate-recommend", kwargs={"pk": candidate.pk})
    )

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert len(response.json()["non_field_errors"]) == 1
