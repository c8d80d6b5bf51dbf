"""Every money field of every form reads amounts as people type them and shows them back."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from django import forms
from django.utils import translation

from rfi.forms import AmountField
from suppliers.forms import ContractForm
from tenders.forms import ParticipationForm, TenderCaseForm
from tenders.ufo.forms import SavingsForm

MONEY_FIELDS = [
    (TenderCaseForm, "estimated_annual_value"),
    (ParticipationForm, "estimated_annual_value"),
    (ContractForm, "annual_value"),
    (SavingsForm, "baseline_annual_cost"),
    (SavingsForm, "new_annual_cost"),
]
IDS = [f"{form.__name__}.{name}" for form, name in MONEY_FIELDS]

DANISH = [
    ("1.200.000", Decimal("1200000")),
    ("1.200.000,50", Decimal("1200000.50")),
    ("1200000", Decimal("1200000")),
    ("1 200 000 kr.", Decimal("1200000")),
]
ENGLISH = [
    ("1,200,000", Decimal("1200000")),
    ("1,200,000.50", Decimal("1200000.50")),
    ("1200000", Decimal("1200000")),
    ("1 200 000 kr.", Decimal("1200000")),
]


def one_field_form(form_class, name):
    field = copy.deepcopy(form_class.base_fields[name])
    field.required = True
    return type("OneField", (forms.Form,), {"amount": field})


@pytest.mark.parametrize(("form_class", "name"), MONEY_FIELDS, ids=IDS)
def test_the_field_is_the_shared_amount_field(form_class, name):
    assert isinstance(form_class.base_fields[name], AmountField)


@pytest.mark.parametrize(("typed", "amount"), DANISH)
@pytest.mark.parametrize(("form_class", "name"), MONEY_FIELDS, ids=IDS)
def test_danish_amounts_are_read_and_shown_back_the_danish_way(form_class, name, typed, amount):
    with translation.override("da"):
        form = one_field_form(form_class, name)({"amount": typed})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["amount"] == amount
        shown = one_field_form(form_class, name)(initial={"amount": amount})
        assert f'value="{"1.200.000,50" if amount % 1 else "1.200.000"}' in str(shown["amount"])


@pytest.mark.parametrize(("typed", "amount"), ENGLISH)
@pytest.mark.parametrize(("form_class", "name"), MONEY_FIELDS, ids=IDS)
def test_english_amounts_are_read_and_shown_back_the_english_way(form_class, name, typed, amount):
    with translation.override("en"):
        form = one_field_form(form_class, name)({"amount": typed})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["amount"] == amount
        shown = one_field_form(form_class, name)(initial={"amount": amount})
        assert f'value="{"1,200,000.50" if amount % 1 else "1,200,000"}' in str(shown["amount"])
