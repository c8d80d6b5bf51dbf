"""Control characters and implausible dates are refused where they enter: form, API, import.

Each refusal names the field (and in an import the row and column) and changes nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from suppliers import services as supplier_services
from tenders import excel, services
from tenders.models import Participation, TenderCase
from tests.conftest import client_for
from tests.tenders import test_views_plan
from tests.tenders.test_excel import (  # noqa: F401  (fixtures)
    export_as,
    plan,
    rewrite,
    snapshot,
)

categories = test_views_plan.categories
form_data = test_views_plan.form_data

pytestmark = pytest.mark.django_db


def test_the_case_form_refuses_a_control_character_in_the_title(officer_rm, regions, categories):
    response = client_for(officer_rm).post(
        reverse("tenders:create"),
        form_data(categories["consumables"], regions["RM"], title="Senge\x1b[31m og madrasser"),
    )

    assert response.status_code == 200
    assert "usynligt kontroltegn (U+001B på position 6)" in response.content.decode()
    assert not TenderCase.objects.exists()


def test_the_case_form_refuses_a_start_in_year_9999(officer_rm, regions, categories):
    response = client_for(officer_rm).post(
        reverse("tenders:create"),
        form_data(categories["consumables"], regions["RM"], expected_tender_start="9999-12-31"),
    )

    assert response.status_code == 200
    assert "31-12-9999 ligger uden for det plausible interval" in response.content.decode()
    assert not TenderCase.objects.exists()


def test_the_api_answers_400_naming_the_field(officer_rm, regions, categories):
    response = client_for(officer_rm).post(
        reverse("tender-list"),
        {
            "title": "Urinposer\x1b",
            "category": categories["consumables"].full_code,
            "area": "medico_acquisitions",
            "kind": "framework",
            "lead_region": "RM",
            "expected_tender_start": "9999-12-31",
        },
        content_type="application/json",
    )

    assert response.status_code == 400, response.content
    assert {"title", "expected_tender_start"} <= set(response.json())
    assert not TenderCase.objects.exists()


def test_a_long_text_keeps_its_line_breaks(officer_rm, regions, categories):
    client_for(officer_rm).post(
        reverse("tenders:create"),
        form_data(categories["consumables"], regions["RM"], description="Linje 1\r\n\tLinje 2"),
    )

    assert TenderCase.objects.get().description.endswith("Linje 2")


def test_an_opt_out_justification_with_a_control_character_is_refused(
    plan,  # noqa: F811
    secretariat,
):
    participation = Participation.objects.filter(status=Participation.Status.PENDING).first()
    participation = participation or Participation.objects.first()

    with pytest.raises(ValidationError) as raised:
        services.participation_decide(
            participation=participation,
            actor=secretariat,
            status=Participation.Status.FULL,
            option_expected_join=None,
            existing_contract_end=dt.date(1900, 1, 1),
            justification="Vi har en aftale\x08",
        )

    assert set(raised.value.message_dict) >= {"justification", "existing_contract_end"}


def test_the_plan_import_names_the_row_and_column_of_an_implausible_date(
    plan,  # noqa: F811
    secretariat,
):
    content = rewrite(
        export_as(secretariat),
        {("FUP-2024-001", "Forventet udbudsstart"): dt.date(2999, 1, 15)},
    )
    before = snapshot()

    result = excel.plan_import(content, "plan.xlsx", secretariat)

    assert [(e.column, e.reason) for e in result.errors] == [
        (
            "Forventet udbudsstart",
            "15-01-2999 ligger uden for det plausible interval 01-01-2000 til 31-12-2099.",
        )
    ]
    assert snapshot() == before


def test_a_supplier_name_with_a_control_character_is_refused(db):
    with pytest.raises(ValidationError) as raised:
        supplier_services.supplier_upsert(identifier="28746153", name="Firma\x00 A/S")

    assert "name" in raised.value.message_dict
