"""factory_boy factories for the people of the collaboration, and small builders of records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory, Password

from kpi.models import KpiRun, KpiSnapshot
from rfi.models import Membership, Region
from tenders.models import SavingsRecord, TenderCase

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = Password(PASSWORD)


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n}")
    name_da = factory.LazyAttribute(lambda region: f"Region {region.code}")
    name_en = factory.LazyAttribute(lambda region: f"Region {region.code}")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    region = factory.SubFactory(RegionFactory)
    role = Membership.Role.OFFICER


# Savings --------------------------------------------------------------------------------------


def contracted_case(
    reference: str,
    category,
    lead_region: Region,
    kind: str,
    start: dt.date,
    end: dt.date,
    *,
    area: str = TenderCase.Area.MEDICO_ACQUISITIONS,
) -> TenderCase:
    """A joint case in contract from ``start`` to ``end``, awarded 60 days before."""
    return TenderCase.objects.create(
        reference=reference,
        title=f"Case {reference}",
        category=category,
        area=area,
        kind=kind,
        lead_region=lead_region,
        status=TenderCase.Status.IN_CONTRACT,
        award_date=start - dt.timedelta(days=60),
        contract_start=start,
        contract_end=end,
    )


def savings_record(region: Region, baseline: str, new: str, method, **fields) -> SavingsRecord:
    """An annual saving: ``baseline`` → ``new`` (awarded unless ``stage`` says otherwise)."""
    return SavingsRecord.objects.create(
        region=region,
        baseline_annual_cost=Decimal(baseline),
        new_annual_cost=Decimal(new),
        method=method,
        **fields,
    )


def compliance_snapshot(
    region: Region, year: int, value: str, *, run: KpiRun | None = None, current: bool = True
) -> KpiSnapshot:
    """A region's compliance KPI of a year (a share: "0.9" is 90 %)."""
    run = run or KpiRun.objects.first() or KpiRun.objects.create(scope=KpiRun.Scope.ALL)
    return KpiSnapshot.objects.create(
        run=run,
        key="compliance",
        region=region,
        period_kind=KpiSnapshot.PeriodKind.YEAR,
        period_start=dt.date(year, 1, 1),
        period_label=str(year),
        value=Decimal(value),
        computed_at=timezone.now(),
        is_current=current,
    )
