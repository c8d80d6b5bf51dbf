"""The shared form pieces (rfi/forms.py): amounts, CPV codes and a service's errors on a form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from rfi.forms import AmountField, CategoryCodeField, DateInput, apply_service_errors
from rfi.models import Category
from suppliers.models import Contract
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


class AmountForm(forms.Form):
    amount = AmountField(max_digits=15, decimal_places=2, required=False)


class CategoryForm(forms.Form):
    category = CategoryCodeField()


def _amount(typed: str, language: str = "da"):
    with translation.override(language):
        form = AmountForm({"amount": typed})
        # the messages are lazy: read them in the language asked for, not after it
        return form.cleaned_data["amount"] if form.is_valid() else list(form.errors["amount"])


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1.234.567,50", Decimal("1234567.50")),
        ("1234567", Decimal("1234567")),
        ("1 234 567", Decimal("1234567")),
        ("1\xa0234\xa0567,5", Decimal("1234567.5")),
        ("1234567,50", Decimal("1234567.50")),
        ("1.000", Decimal("1000")),  # a lone dot in Danish groups thousands
        ("12,5", Decimal("12.5")),
        ("850.000 kr.", Decimal("850000")),
        ("1250000.50", Decimal("1250000.50")),  # what the API and older pages send
        ("", None),
    ],
)
def test_danish_amounts_parse(typed, amount):
    assert _amount(typed) == amount


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1,234,567.50", Decimal("1234567.50")),
        ("1,234", Decimal("1234")),
        ("12.5", Decimal("12.5")),
    ],
)
def test_english_amounts_parse_in_english(typed, amount):
    assert _amount(typed, "en") == amount


@pytest.mark.parametrize("typed", ["12,34,5", "1.23.4", "tolv", "1,2,3"])
def test_what_is_not_an_amount_is_refused_in_danish(typed):
    assert _amount(typed) == ["Skriv et beløb, f.eks. 1.234.567,50 eller 1234567."]


def test_an_amount_is_shown_the_danish_way():
    with translation.override("da"):
        html = str(AmountForm(initial={"amount": Decimal("1234567.50")})["amount"])

    assert 'value="1.234.567,50"' in html
    assert 'type="text"' in html


def _contract_form(regions, **changes) -> dict:
    """The contract form as an officer of RM fills it in, with ``changes``."""
    return {
        "region": regions["RM"].pk,
        "supplier_identifier": "28746153",
        "supplier_name": "Sønderjysk Medico ApS",
        "supplier_country": "DK",
        "title": "Urologiske katetre",
        "category": "33141200-2",
        "kind": "framework",
        "start_date": "2025-02-01",
        "end_date": "2028-01-31",
        **changes,
    }


def test_a_contract_registered_with_a_danish_amount_keeps_its_value(officer_rm, regions):
    Category.objects.create(code="33141200", check_digit="2", label_da="Katetre", level=5)
    data = _contract_form(regions, annual_value="1.250.000,50")

    response = client_for(officer_rm).post(reverse("suppliers:create"), data)

    assert response.status_code == 302
    assert Contract.objects.get().annual_value == Decimal("1250000.50")


def test_a_cpv_code_with_a_wrong_check_digit_is_refused_on_its_field(category_33):
    form = CategoryForm({"category": "33000000-4"})

    assert not form.is_valid()
    assert form.errors["category"] == ["Kontrolcifferet for 33000000 er 0, ikke 4."]


def test_a_cpv_code_with_or_without_its_check_digit_finds_the_category(category_33):
    for typed in ("33000000", "33000000-0", " 33000000 "):
        form = CategoryForm({"category": typed})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["category"] == category_33


class ContractLikeForm(forms.Form):
    supplier_identifier = forms.CharField(required=False)
    title = forms.CharField(required=False)


def test_service_errors_land_on_the_right_field():
    form = ContractLikeForm({"supplier_identifier": "1", "title": "x"})
    form.is_valid()
    error = ValidationError(
        {
            "identifier": ["A Danish CVR number is exactly 8 digits."],
            "title": ["Give a title."],
            "region": ["Not your region."],
        }
    )

    apply_service_errors(form, error, field_map={"identifier": "supplier_identifier"})

    assert form.errors["supplier_identifier"] == ["A Danish CVR number is exactly 8 digits."]
    assert form.errors["title"] == ["Give a title."]
    # the form has no region field: the message goes to the top of the form
    assert form.non_field_errors() == ["Not your region."]


def test_a_service_error_without_a_field_goes_to_the_top_of_the_form():
    form = ContractLikeForm({"title": "x"})
    form.is_valid()

    apply_service_errors(form, ValidationError("The tender is closed."))

    assert form.non_field_errors() == ["The tender is closed."]
    assert "title" not in form.errors


def test_a_date_input_sent_back_with_a_bad_date_shows_it_empty_with_the_error():
    # given: the audit log's filter, sent a date the browser's picker cannot hold
    class Filter(forms.Form):
        date_from = forms.DateField(required=False, widget=DateInput())

    # when
    bad = Filter({"date_from": "31-02-2026"})
    good = Filter({"date_from": "2026-02-28"})

    # then: type=date takes only an ISO date as its value (valid HTML), else none at all
    assert not bad.is_valid()
    assert "value=" not in str(bad["date_from"])
    assert 'aria-invalid="true"' in str(bad["date_from"])
    assert 'value="2026-02-28"' in str(good["date_from"])


def test_a_danish_date_sent_back_with_another_fields_error_keeps_its_value(officer_rm, regions):
    # given: a contract typed with Danish dates (a browser without a date picker sends them
    # as typed) and a CPV code that does not exist
    data = _contract_form(
        regions, category="99999999", start_date="01.02.2025", end_date="31-01-2028"
    )

    # when
    response = client_for(officer_rm).post(reverse("suppliers:create"), data)

    # then: the form comes back with the code's error, and both dates still filled in
    assert response.status_code == 200
    form = response.context["form"]
    assert "category" in form.errors
    assert 'value="2025-02-01"' in str(form["start_date"])
    assert 'value="2028-01-31"' in str(form["end_date"])
