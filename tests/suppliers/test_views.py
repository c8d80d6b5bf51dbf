"""The registry's pages as each kind of user meets them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from suppliers.models import Contract, Supplier
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def rm_contract(make_contract):
    return make_contract(
        "RM",
        title="Midtjyske katetre",
        supplier_identifier="31457826",
        supplier_name="Nordisk Hospitalsudstyr A/S",
        annual_value=Decimal("1250000"),
    )


@pytest.fixture
def rsd_contract(make_contract):
    return make_contract("RSD", title="Syddanske katetre")


def _form(regions, **more) -> dict:
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
        "extended_until": "",
        "annual_value": "1250000.50",
        "tender_reference": "",
        **more,
    }


# Reading ----------------------------------------------------------------------------------------


def test_the_list_shows_an_officer_only_their_own_regions_contracts(
    officer_rsd, rm_contract, rsd_contract
):
    response = client_for(officer_rsd).get(reverse("suppliers:index"))

    assert response.status_code == 200
    assert "Syddanske katetre" in response.text
    assert "Midtjyske katetre" not in response.text
    assert "Nordisk Hospitalsudstyr" not in response.text


def test_the_ufo_group_sees_every_region_and_can_filter(ufo_member, rm_contract, rsd_contract):
    client = client_for(ufo_member)

    everything = client.get(reverse("suppliers:index"))
    only_rsd = client.get(reverse("suppliers:index"), {"region": "RSD"})

    assert "Midtjyske katetre" in everything.text and "Syddanske katetre" in everything.text
    assert "Midtjyske katetre" not in only_rsd.text and "Syddanske katetre" in only_rsd.text


def test_the_list_pages_by_fifty(secretariat, make_contract):
    for n in range(51):
        make_contract("RN", title=f"Aftale {n:02d}", supplier_identifier="20357148")

    first = client_for(secretariat).get(reverse("suppliers:index"))
    second = client_for(secretariat).get(reverse("suppliers:index"), {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1


def test_an_officer_of_rsd_gets_404_for_rms_contract_pages(officer_rsd, rm_contract):
    client = client_for(officer_rsd)

    for name in ("suppliers:detail", "suppliers:edit", "suppliers:delete"):
        assert client.get(reverse(name, args=[rm_contract.pk])).status_code == 404


def test_an_officer_of_rsd_cannot_change_or_delete_rms_contract(officer_rsd, regions, rm_contract):
    client = client_for(officer_rsd)

    edited = client.post(
        reverse("suppliers:edit", args=[rm_contract.pk]), _form(regions, title="Overtaget")
    )
    deleted = client.post(reverse("suppliers:delete", args=[rm_contract.pk]))

    assert (edited.status_code, deleted.status_code) == (404, 404)
    contract = Contract.objects.get(pk=rm_contract.pk)
    assert contract.title == "Midtjyske katetre"
    assert contract.history.count() == 1


def test_rms_chief_reads_the_contract_with_its_history_but_cannot_edit(chief, rm_contract):
    client = client_for(chief)

    page = client.get(reverse("suppliers:detail", args=[rm_contract.pk]))
    edit = client.get(reverse("suppliers:edit", args=[rm_contract.pk]))

    assert page.status_code == 200
    assert "Nordisk Hospitalsudstyr A/S" in page.text
    assert "secretariat" in page.text  # who registered it, in the history
    assert reverse("suppliers:edit", args=[rm_contract.pk]) not in page.text
    assert edit.status_code == 403


# Registering and editing -------------------------------------------------------------------------


def test_an_officer_registers_a_contract_and_the_supplier_is_upserted(officer_rm, regions, cpv):
    Supplier.objects.create(identifier="28746153", name="Sønderjysk Medico (gammelt navn)")

    response = client_for(officer_rm).post(reverse("suppliers:create"), _form(regions))

    contract = Contract.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("suppliers:detail", args=[contract.pk])
    assert contract.region == regions["RM"]
    assert contract.category.code == "33141200"
    assert contract.annual_value == Decimal("1250000.50")
    assert Supplier.objects.get().name == "Sønderjysk Medico ApS"
    assert contract.history.get().history_user == officer_rm


def test_the_form_offers_an_officer_only_their_own_region(officer_rm, regions, cpv):
    client = client_for(officer_rm)

    page = client.get(reverse("suppliers:create"))
    refused = client.post(reverse("suppliers:create"), _form(regions, region=regions["RSD"].pk))

    assert [r.code for r in page.context["form"].fields["region"].queryset] == ["RM"]
    assert refused.status_code == 200
    assert refused.context["form"].errors["region"]
    assert not Contract.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "error_field"),
    [
        ("supplier_identifier", "1234567", "supplier_identifier"),
        ("end_date", "2024-01-01", "end_date"),
        ("extended_until", "2027-01-01", "extended_until"),
        ("tender_reference", "FUP-2099-999", "tender_reference"),
        ("category", "3314120", "category"),
        ("supplier_name", "", "supplier_name"),
    ],
)
def test_a_refused_form_says_why_by_field_and_saves_nothing(
    field, value, error_field, officer_rm, regions, cpv
):
    response = client_for(officer_rm).post(
        reverse("suppliers:create"), _form(regions, **{field: value})
    )

    assert response.status_code == 200
    assert response.context["form"].errors[error_field]
    assert not Contract.objects.exists()
    assert not Supplier.objects.exists()


def test_one_submit_shows_the_amount_title_and_date_errors_together(officer_rm, regions, cpv):
    data = _form(regions, annual_value="en million", title="", end_date="2024-01-01")

    response = client_for(officer_rm).post(reverse("suppliers:create"), data)

    errors = response.context["form"].errors
    assert set(errors) >= {"annual_value", "title", "end_date"}
    assert not Contract.objects.exists()


def test_editing_shows_the_change_and_who_made_it_in_the_history(officer_rm, regions, rm_contract):
    client = client_for(officer_rm)
    form = client.get(reverse("suppliers:edit", args=[rm_contract.pk])).context["form"]
    data = {**_form(regions), **{k: v for k, v in form.initial.items() if v is not None}}
    data.update(
        category="33141200", end_date="2029-06-30", supplier_name="Nordisk Hospitalsudstyr A/S"
    )
    data["start_date"] = rm_contract.start_date.isoformat()
    data["title"] = rm_contract.title

    response = client.post(reverse("suppliers:edit", args=[rm_contract.pk]), data)
    page = client.get(reverse("suppliers:detail", args=[rm_contract.pk]))

    assert response.status_code == 302
    assert Contract.objects.get(pk=rm_contract.pk).end_date == dt.date(2029, 6, 30)
    history = page.context["history"]
    assert history[0].who == officer_rm
    assert [label for label, _old, _new in history[0].changes] == ["slut"]
    assert history[0].changes[0][1:] == ("31-12-2027", "30-06-2029")


def test_an_officer_deletes_their_regions_contract_after_confirming(officer_rm, rm_contract):
    client = client_for(officer_rm)

    confirm = client.get(reverse("suppliers:delete", args=[rm_contract.pk]))
    still_there = Contract.objects.filter(pk=rm_contract.pk).exists()
    deleted = client.post(reverse("suppliers:delete", args=[rm_contract.pk]))

    assert confirm.status_code == 200
    assert still_there
    assert deleted.status_code == 302
    assert not Contract.objects.filter(pk=rm_contract.pk).exists()


def test_the_category_field_shows_the_label_while_typing(officer_rm, cpv):
    response = client_for(officer_rm).get(
        reverse("suppliers:create"), {"category": "33141200"}, headers={"HX-Request": "true"}
    )

    assert "Katetre" in response.text


# The pipeline ----------------------------------------------------------------------------------------


def test_the_pipeline_shows_a_joint_candidate_without_the_other_regions_details(
    officer_rsd, make_contract
):
    today = timezone.localdate()
    make_contract("RM", title="Midtjysk hemmelighed", end_date=today + dt.timedelta(days=200))
    make_contract("RSD", title="Syddanske katetre", end_date=today + dt.timedelta(days=300))

    response = client_for(officer_rsd).get(reverse("suppliers:pipeline"))

    assert response.status_code == 200
    [item] = response.context["candidates"]
    assert item["candidate"].regions == ["RM", "RSD"]
    assert "Midtjysk hemmelighed" not in response.text
    assert "Syddanske katetre" in response.text
    assert reverse("tenders:candidate_create") + "?category=33100000&amp;title=" in response.text
    assert "Foreslå som kandidatområde" in response.text


def test_the_pipeline_offers_no_proposal_to_a_chief(chief, make_contract):
    today = timezone.localdate()
    make_contract("RM", end_date=today + dt.timedelta(days=200))
    make_contract("RSD", end_date=today + dt.timedelta(days=300))

    response = client_for(chief).get(reverse("suppliers:pipeline"))

    assert len(response.context["candidates"]) == 1
    assert reverse("tenders:candidate_create") not in response.text


# Import -------------------------------------------------------------------------------------------

HEADER = "region;leverandør_id;leverandørnavn;titel;kategori;startdato;slutdato;årlig_værdi;type;udbudsreference"


def _upload(rows, name="kontrakter.csv", encoding="cp1252"):
    content = "\r\n".join([HEADER, *rows]).encode(encoding)
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_an_officer_imports_their_regions_contracts(officer_rm, regions, cpv):
    rows = [
        "RM;28746153;Sønderjysk Medico ApS;Katetre;33141200;01-02-2025;31-01-2028;1.250.000,50;;"
    ]

    response = client_for(officer_rm).post(reverse("suppliers:import"), {"file": _upload(rows)})

    assert response.status_code == 200
    assert "1 kontrakt registreret" in response.text
    assert Contract.objects.get().supplier.name == "Sønderjysk Medico ApS"


def test_an_import_with_an_error_lists_row_and_column_and_saves_nothing(officer_rsd, regions, cpv):
    rows = [
        "RSD;28746153;Sønderjysk Medico ApS;Katetre;33141200;01-02-2025;31-01-2028;;;",
        "RM;31457826;Midtjysk ApS;Katetre;33141200;01-02-2025;31-01-2028;;;",
    ]

    response = client_for(officer_rsd).post(reverse("suppliers:import"), {"file": _upload(rows)})

    assert response.status_code == 422
    [error] = response.context["errors"]
    assert (error.row, error.column, error.value) == (3, "region", "RM")
    assert "Intet er gemt" in response.text
    assert not Contract.objects.exists()


def test_the_import_page_lists_at_most_1000_errors(secretariat, regions, cpv):
    rows = [f"RM;123;X;Aftale {n};33141200;01-02-2025;31-01-2028;;;" for n in range(1001)]

    response = client_for(secretariat).post(reverse("suppliers:import"), {"file": _upload(rows)})

    assert response.status_code == 422
    assert len(response.context["errors"]) == 1000
    assert response.context["errors_hidden"] == 1


def test_the_import_refuses_other_file_types(officer_rm):
    upload = SimpleUploadedFile("kontrakter.pdf", b"%PDF-1.4", content_type="application/pdf")

    response = client_for(officer_rm).post(reverse("suppliers:import"), {"file": upload})

    assert response.status_code == 400
    assert response.context["form"].errors["file"]
