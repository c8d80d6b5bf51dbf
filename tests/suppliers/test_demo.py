"""The demo registry that seed_demo loads: realistic, deterministic, idempotent."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from suppliers import selectors
from suppliers.models import Contract, Supplier
from tests.conftest import kept_for_module

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """seed_reference, then seed_demo twice, once for the module."""
    with kept_for_module(django_db_blocker):
        with django_db_blocker.unblock():
            call_command("seed_reference", stdout=io.StringIO())
            first = io.StringIO()
            call_command("seed_demo", stdout=first)
            counts = (Contract.objects.count(), Contract.history.count(), Supplier.objects.count())
            second = io.StringIO()
            call_command("seed_demo", stdout=second)
            again = (Contract.objects.count(), Contract.history.count(), Supplier.objects.count())
        yield {"first": first.getvalue(), "second": second.getvalue(), "counts": (counts, again)}


def test_about_150_contracts_across_the_five_regions(seeded):
    per_region = {
        code: Contract.objects.filter(region__code=code).count()
        for code in ("RH", "RSJ", "RSD", "RM", "RN")
    }

    assert 130 <= Contract.objects.count() <= 170
    assert min(per_region.values()) >= 15
    assert "Demo contract registry:" in seeded["first"]


def test_a_second_run_changes_nothing(seeded):
    first, second = seeded["counts"]

    assert first == second
    assert "0 contracts and 0 suppliers added" in seeded["second"]


def test_suppliers_have_danish_names_and_cvr_numbers(seeded):
    suppliers = list(Supplier.objects.all())

    assert all(re.fullmatch(r"[1-9]\d{7}", s.identifier) for s in suppliers)
    assert sum(bool(set("æøåÆØÅ") & set(s.name)) for s in suppliers) >= 10


def test_some_are_joint_some_own_some_registered_after_the_fact(seeded):
    joint = Contract.objects.filter(tender__isnull=False)

    assert joint.count() >= 50
    assert Contract.objects.filter(tender__isnull=True).count() >= 50
    assert 5 <= Contract.objects.filter(registered_after_the_fact=True).count() <= 40
    # A joint contract carries its tender case's category and period.
    for contract in joint[:20]:
        assert contract.category == contract.tender.category
        assert contract.end_date >= contract.tender.contract_end


def test_the_pipeline_and_joint_candidates_show_something(seeded):
    secretariat = get_user_model().objects.get(username="sekretariat")
    contracts = selectors.contracts_visible_to(secretariat)

    pipeline = selectors.contract_pipeline(contracts=contracts)
    candidates = selectors.joint_tender_candidates(user=secretariat)

    assert {row.key for row in pipeline.by_region if row.within_12.contracts} == {
        "RH",
        "RSJ",
        "RSD",
        "RM",
        "RN",
    }
    assert len(candidates) >= 5
    assert any(not any(e.contract.tender_id for e in c.entries) for c in candidates)


def test_the_history_names_the_regions_officers(seeded):
    record = Contract.history.filter(region__code="RN").order_by("history_date").first()

    assert record.history_user.username == "rn-officer"
    assert record.history_date.date() <= timezone.localdate()


def test_regional_contracts_mix_signed_and_unsigned_with_deadlines_in_the_coming_months(seeded):
    from suppliers.models import ContractExtension

    today = timezone.localdate()
    joint = Contract.objects.filter(tender__isnull=False)

    assert joint.filter(offered_on__isnull=True).count() == 0
    assert joint.filter(signed_on__isnull=False).count() >= 10
    unsigned = joint.filter(signed_on__isnull=True)
    assert unsigned.count() >= 2
    late = [c for c in unsigned if (today - c.offered_on).days >= 30]
    assert late, "some regions have not signed 30 days after award"
    coming = ContractExtension.objects.filter(
        notice_deadline__gte=today, notice_deadline__lte=today + dt.timedelta(days=200)
    )
    assert coming.count() >= 3
