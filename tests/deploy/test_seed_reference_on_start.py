"""seed_reference runs on every start (the compose file's migrate service): it only adds."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from rfi.models import Category, PartnerBody, Region
from tests.conftest import kept_for_module

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The reference data as the first start leaves it, once for the module."""
    with kept_for_module(django_db_blocker):
        with django_db_blocker.unblock():
            call_command("seed_reference", stdout=io.StringIO())
        yield


def _seed_again() -> str:
    out = io.StringIO()
    call_command("seed_reference", stdout=out)
    return out.getvalue()


def test_a_restart_keeps_what_an_administrator_edited(seeded):
    # given: the secretariat renamed a region, retired a partner body, relabelled and
    # moved a CPV category in the admin
    Region.objects.filter(code="RM").update(name_da="Region Midt")
    PartnerBody.objects.filter(code="SKI").update(active=False, name_da="SKI (udgået)")
    Category.objects.filter(code="90910000").update(label_da="Rengøring (egen tekst)")
    division = Category.objects.get(code="90000000")
    Category.objects.filter(code="90911000").update(parent=division)

    # when: the stack restarts
    output = _seed_again()

    # then
    assert Region.objects.get(code="RM").name_da == "Region Midt"
    ski = PartnerBody.objects.get(code="SKI")
    assert (ski.active, ski.name_da) == (False, "SKI (udgået)")
    assert Category.objects.get(code="90910000").label_da == "Rengøring (egen tekst)"
    assert Category.objects.get(code="90911000").parent == division
    assert (
        "Regions and partner bodies: 0 created, 0 with empty contact fields filled, 10 kept"
        in output
    )
    assert "CPV: 0 created, 9454 kept" in output


def test_a_restart_adds_what_is_missing_and_hangs_it_in_the_tree(seeded):
    # given: a category and the group above it are missing, a region was never loaded
    Category.objects.filter(code__startswith="9091").update(parent=None)
    Category.objects.filter(code__in=["90910000", "90911000"]).delete()
    Region.objects.filter(code="RN").delete()
    count = Category.objects.count()

    # when
    output = _seed_again()

    # then
    assert Category.objects.count() == count + 2
    assert Category.objects.get(code="90910000").parent.code == "90900000"
    assert Category.objects.get(code="90911000").parent.code == "90910000"
    assert Category.objects.get(code="90911200").parent.code == "90911000"
    assert Region.objects.get(code="RN").name_da == "Region Nordjylland"
    assert "CPV: 2 created" in output
    assert "Regions and partner bodies: 1 created" in output


def test_load_cpv_still_refreshes_the_labels_on_purpose(seeded):
    Category.objects.filter(code="90910000").update(label_da="Rengøring (egen tekst)")

    call_command("load_cpv", stdout=io.StringIO())

    assert Category.objects.get(code="90910000").label_da != "Rengøring (egen tekst)"
