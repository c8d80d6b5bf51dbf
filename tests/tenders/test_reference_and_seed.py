"""The plan's reference data (seed_reference) and the demo plan (seed_demo)."""

from __future__ import annotations

import io
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from rfi.models import Membership
from tenders import demo, selectors
from tenders.models import (
    CandidateArea,
    OptOutReason,
    Participation,
    PlanSettings,
    SavingsMethod,
    SavingsPlan,
    SavingsRecord,
    Score,
    ScoreSheet,
    ScoringCriterion,
    TenderCase,
)
from tenders.reference import plan_reference_load
from tests.conftest import kept_for_module

pytestmark = pytest.mark.django_db


# Reference data -----------------------------------------------------------------------------


def reference_counts() -> tuple[int, ...]:
    return (
        OptOutReason.objects.count(),
        OptOutReason.history.count(),
        ScoringCriterion.objects.count(),
        ScoringCriterion.history.count(),
        SavingsMethod.objects.count(),
        PlanSettings.objects.count(),
    )


def test_reference_data_has_the_reasons_criteria_methods_and_settings(db):
    plan_reference_load()

    reasons = {r.code: r for r in OptOutReason.objects.all()}
    assert set(reasons) == {
        "existing-contract",
        "clinical-needs",
        "volume-too-small",
        "local-market",
        "other",
    }
    assert [code for code, r in reasons.items() if r.asks_contract_end] == ["existing-contract"]
    assert all(r.label_da and r.label_en and r.active for r in reasons.values())
    assert reasons["clinical-needs"].label_da == "Andre kliniske behov"
    assert reasons["existing-contract"].label_en == "Existing contract until"

    criteria = list(ScoringCriterion.objects.all())
    assert [c.code for c in criteria] == [
        "volume-savings",
        "tender-history",
        "complexity",
        "market-analysis",
    ]
    assert {c.weight for c in criteria} == {Decimal("1.00")}
    assert "transaktionsomkostninger" in criteria[0].label_da
    assert "afhængighed af andet udstyr" in criteria[3].label_da

    assert set(SavingsMethod.objects.values_list("code", flat=True)) == {
        "same-volume",
        "previous-contract",
        "market-price",
        "estimate",
    }
    settings = PlanSettings.current()
    assert (settings.min_justification_length, settings.reminder_day_list) == (40, [3, 14])


def test_reference_data_loads_once_and_keeps_the_secretariats_changes(db):
    plan_reference_load()
    ScoringCriterion.objects.filter(code="complexity").update(weight=Decimal("2.50"))
    PlanSettings.objects.filter(pk=1).update(min_justification_length=80)
    counts = reference_counts()

    result = plan_reference_load()

    assert result.created == 0
    assert reference_counts() == counts
    assert ScoringCriterion.objects.get(code="complexity").weight == Decimal("2.50")
    assert PlanSettings.current().min_justification_length == 80


# The demo plan through the seed commands ----------------------------------------------------


@dataclass
class Counts:
    values: dict

    @classmethod
    def now(cls) -> Counts:
        return cls(
            {
                "tenders": TenderCase.objects.count(),
                "tender_history": TenderCase.history.count(),
                "participations": Participation.objects.count(),
                "participation_history": Participation.history.count(),
                "candidates": CandidateArea.objects.count(),
                "sheets": ScoreSheet.objects.count(),
                "scores": Score.objects.count(),
                "savings": SavingsRecord.objects.count(),
                "reasons": OptOutReason.objects.count(),
                "reason_history": OptOutReason.history.count(),
                "criteria": ScoringCriterion.objects.count(),
                "methods": SavingsMethod.objects.count(),
            }
        )


@dataclass
class Seeding:
    after_reference: Counts
    after_second_reference: Counts
    after_demo: Counts
    after_second_demo: Counts
    plan_seconds: float
    output: str


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Seeding:
    """seed_reference twice, then seed_demo twice, on an empty database, once for the module."""
    timings = []

    def timed(**kwargs):
        start = time.perf_counter()
        result = demo.plan_demo_load(**kwargs)
        timings.append(time.perf_counter() - start)
        return result

    with kept_for_module(django_db_blocker):
        with django_db_blocker.unblock():
            call_command("seed_reference", stdout=io.StringIO())
            after_reference = Counts.now()
            call_command("seed_reference", stdout=io.StringIO())
            after_second_reference = Counts.now()
            out = io.StringIO()
            with mock.patch("rfi.management.commands.seed_demo.plan_demo_load", side_effect=timed):
                call_command("seed_demo", stdout=out)
            after_demo = Counts.now()
            call_command("seed_demo", stdout=io.StringIO())
            after_second_demo = Counts.now()
        yield Seeding(
            after_reference,
            after_second_reference,
            after_demo,
            after_second_demo,
            timings[0],
            out.getvalue(),
        )


def test_seed_reference_loads_the_plan_reference_data(seeded):
    counts = seeded.after_reference.values

    assert (counts["reasons"], counts["criteria"], counts["methods"]) == (5, 4, 4)
    assert counts["tenders"] == 0


def test_seed_reference_twice_changes_nothing(seeded):
    assert seeded.after_second_reference == seeded.after_reference


def test_seed_demo_twice_changes_nothing(seeded):
    assert seeded.after_second_demo == seeded.after_demo


def test_seed_demo_reports_the_plan(seeded):
    assert "Demo tender plan:" in seeded.output


def test_the_demo_plan_has_at_least_120_cases_in_every_status(seeded):
    assert TenderCase.objects.count() >= 120
    assert set(TenderCase.objects.values_list("status", flat=True)) == set(TenderCase.Status.values)
    divisions = {code[:2] for code in TenderCase.objects.values_list("category__code", flat=True)}
    assert len(divisions) >= 15


def test_the_demo_plan_has_the_shape_of_the_2015_status_report(seeded):
    report = selectors.status_report()

    counts = {key: cell["tenders"] for key, cell in report["cells"].items()}
    assert counts == {
        "upcoming_current.goods_services": 56,
        "in_contract.goods_services": 41,
        "upcoming_current.medico_acquisitions": 15,
        "in_contract.medico_acquisitions": 7,
    }
    assert report["tenders"] == 119
    assert 3.3 <= report["regions_per_tender"] <= 3.9
    assert Decimal("1550000000") <= report["annual_value"] <= Decimal("1650000000")


def test_leads_are_spread_over_the_regions_with_amgros_pilots(seeded):
    leads = Counter(
        TenderCase.objects.filter(lead_region__isnull=False).values_list(
            "lead_region__code", flat=True
        )
    )
    assert set(leads) == {"RH", "RSJ", "RSD", "RM", "RN"}
    assert min(leads.values()) >= 5
    pilots = TenderCase.objects.filter(lead_partner__code="AMGROS")
    assert 1 <= pilots.count() <= 2
    for tender in pilots:
        assert tender.participations.filter(status__in=["full", "option"]).exists()


def test_every_opt_out_is_explained(seeded):
    minimum = PlanSettings.current().min_justification_length
    opt_outs = Participation.objects.filter(status="opted_out").select_related("opt_out_reason")

    assert opt_outs.count() >= 50
    for participation in opt_outs:
        assert participation.opt_out_reason is not None
        assert len(participation.justification) >= minimum
        assert participation.decided_by is not None
        if participation.opt_out_reason.asks_contract_end:
            assert participation.existing_contract_end is not None
    assert len({p.opt_out_reason.code for p in opt_outs}) == 5
    assert len({p.justification for p in opt_outs}) >= 10


def test_options_have_join_dates_and_some_are_exercised(seeded):
    options = Participation.objects.filter(status="option")

    assert options.count() >= 20
    assert not options.filter(option_expected_join__isnull=True).exists()
    assert not options.filter(tender__has_options=False).exists()
    exercised = options.filter(option_exercised_on__isnull=False)
    assert exercised.exists()
    assert not exercised.filter(option_exercised_on__gt=timezone.localdate()).exists()


def test_some_decisions_are_pending_and_some_overdue(seeded):
    outstanding = selectors.outstanding_explanations()

    assert sum(case.overdue for case in outstanding) >= 3
    assert sum(not case.overdue for case in outstanding) >= 3
    assert all(case.tender.status == "planned" for case in outstanding)


def test_candidate_areas_are_scored_by_the_demo_ufo_members(seeded):
    candidates = CandidateArea.objects.all()
    ufo_users = set(Membership.objects.filter(role="ufo").values_list("user__username", flat=True))

    assert candidates.count() >= 10
    for candidate in candidates:
        scorers = set(candidate.score_sheets.values_list("scorer__username", flat=True))
        assert len(scorers) >= 2
        assert scorers <= ufo_users
    assert candidates.filter(status="recommended").count() >= 2
    ranking = selectors.candidate_ranking()
    assert all(r.weighted_mean is not None for r in ranking)


def test_savings_are_recorded_on_awarded_cases(seeded):
    savings = SavingsRecord.objects.select_related("tender").filter(
        stage=SavingsRecord.Stage.AWARDED, tender__isnull=False
    )

    assert savings.count() >= 50
    assert all(record.tender.award_date for record in savings)
    assert all(Decimal("0.03") < record.price_reduction < Decimal("0.3") for record in savings)
    assert set(savings.values_list("region__code", flat=True)) == {"RH", "RSJ", "RSD", "RM", "RN"}


def test_the_demo_has_expected_awarded_and_regional_savings_and_plans(seeded):
    records = SavingsRecord.objects.all()
    expected = records.filter(stage=SavingsRecord.Stage.EXPECTED)
    assert expected.filter(tender__award_date__isnull=False).exists()  # beside awarded
    assert expected.filter(tender__award_date__isnull=True).exists()  # cases in tender
    regional = records.filter(tender__isnull=True, stage=SavingsRecord.Stage.AWARDED)
    assert set(regional.values_list("region__code", flat=True)) == {"RH", "RSJ", "RSD", "RM", "RN"}
    # some own contracts started before the strategy (2021), some after
    years = {r.contract_start.year for r in regional}
    assert min(years) < 2021 < max(years)
    this_year = timezone.localdate().year
    plans = SavingsPlan.objects.filter(year=this_year)
    assert plans.count() == 5
    assert all(plan.owner.memberships.filter(region=plan.region).exists() for plan in plans)


def test_the_demo_is_recorded_under_the_demo_officers(seeded):
    led_by_rm = TenderCase.objects.filter(lead_region__code="RM").first()

    created = led_by_rm.history.earliest("history_date")
    assert created.history_user.username == "rm-officer"


def test_the_demo_plan_is_deterministic():
    today = timezone.localdate()

    assert demo.plan_specs(today=today) == demo.plan_specs(today=today)
