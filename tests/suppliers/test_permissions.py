"""The registry's rights per persona, for a contract of Region Midtjylland (RM)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from rfi import permissions
from suppliers.models import ContractDocument, ContractExtension, ExtensionReminder
from tenders.models import SavingsPlan
from tests.conftest import PERSONAS, client_for

pytestmark = pytest.mark.django_db

RULES = {
    # rule(user, rm_contract): the personas it answers True for
    permissions.can_view_contract: {"officer_rm", "chief", "ufo_member", "secretariat"},
    permissions.can_edit_contract: {"officer_rm", "secretariat"},
}


@pytest.mark.parametrize("rule", list(RULES), ids=lambda rule: rule.__name__)
@pytest.mark.parametrize("persona", PERSONAS)
def test_contract_rule(rule, persona, request, make_contract):
    user = request.getfixturevalue(persona)
    contract = make_contract("RM")

    assert rule(user, contract) is (persona in RULES[rule])


@pytest.mark.parametrize("persona", PERSONAS)
def test_registering_for_a_region(persona, request, regions):
    user = request.getfixturevalue(persona)

    allowed = {
        code
        for code, region in regions.items()
        if permissions.can_register_contract_for(user, region)
    }

    expected = {
        "officer_rm": {"RM"},
        "officer_rsd": {"RSD"},
        "secretariat": set(regions),
    }.get(persona, set())
    assert allowed == expected


def test_the_admin_shows_contracts_and_suppliers_to_the_secretariat_only(
    secretariat, officer_rm, make_contract
):
    contract = make_contract("RM")
    urls = [
        reverse("admin:suppliers_contract_changelist"),
        reverse("admin:suppliers_contract_change", args=[contract.pk]),
        reverse("admin:suppliers_contract_history", args=[contract.pk]),
        reverse("admin:suppliers_supplier_changelist"),
        reverse("admin:suppliers_supplier_change", args=[contract.supplier.pk]),
    ]

    for url in urls:
        assert client_for(secretariat).get(url).status_code == 200, url
        assert client_for(officer_rm).get(url).status_code == 302, url


def test_the_admin_refuses_a_contract_ending_before_it_starts(secretariat, make_contract):
    contract = make_contract("RM")
    url = reverse("admin:suppliers_contract_change", args=[contract.pk])
    page = client_for(secretariat).get(url)
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None
    }
    data.update(end_date="2020-01-01", start_date="2024-01-01", kind="framework")

    response = client_for(secretariat).post(url, data)

    assert response.status_code == 200
    assert "end_date" in response.context["adminform"].form.errors


def test_the_admin_lists_extensions_reminders_documents_and_savings_plans_to_the_secretariat(
    secretariat, officer_rm, regions, make_contract
):
    contract = make_contract("RM", title="Katetre til dialyse")
    extension = ContractExtension.objects.create(
        contract=contract, extends_to=dt.date(2028, 12, 31), notice_deadline=dt.date(2027, 9, 30)
    )
    ExtensionReminder.objects.create(
        extension=extension, notice_deadline=extension.notice_deadline, days_before=90
    )
    document = ContractDocument.objects.create(
        contract=contract, file="contracts/1/signed.pdf", name="kontrakt-underskrevet.pdf"
    )
    SavingsPlan.objects.create(
        region=regions["RM"], year=2026, owner=officer_rm, forecast=Decimal("250000")
    )
    pages = {
        "admin:suppliers_contractextension_changelist": "Katetre til dialyse",
        "admin:suppliers_extensionreminder_changelist": "Katetre til dialyse",
        "admin:suppliers_contractdocument_changelist": "kontrakt-underskrevet.pdf",
        "admin:tenders_savingsplan_changelist": "250",
    }

    for name, shown in pages.items():
        response = client_for(secretariat).get(reverse(name))
        assert response.status_code == 200, name
        assert shown in response.content.decode(), name
        assert client_for(officer_rm).get(reverse(name)).status_code == 302, name
    change = reverse("admin:suppliers_contractdocument_change", args=[document.pk])
    download = reverse("suppliers:document_download", args=[contract.pk, document.pk])
    assert download in client_for(secretariat).get(change).content.decode()
