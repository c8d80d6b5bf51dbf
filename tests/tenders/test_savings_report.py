"""savings_report: every key, worked out by hand from a small set of records (year 2026)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from kpi.models import KpiRun, KpiSnapshot
from tenders import savings
from tenders.models import SavingsMethod, SavingsRecord, TenderCase
from tests.factories import compliance_snapshot, contracted_case, savings_record

pytestmark = pytest.mark.django_db

D = dt.date
AWARDED, EXPECTED = SavingsRecord.Stage.AWARDED, SavingsRecord.Stage.EXPECTED
FRAMEWORK, ONE_OFF = TenderCase.Kind.FRAMEWORK, TenderCase.Kind.ONE_OFF


@pytest.fixture
def ledger(savings_cases, regions, category_33):
    """The records, and the compliance figures, the expected figures below are worked from.

    From ``savings_cases``: joint case A, all of 2026, the contract period is the case's:
    RM 200,000 and RSD 50,000 (RH's estimate on A is not an awarded saving); joint case B,
    one-off, starts 1 July 2026 (184 days of 2026): RM 100,000.
    """
    rm, rsd, rh = regions["RM"], regions["RSD"], regions["RH"]
    method = savings_cases["method"]
    c = contracted_case("FUP-2020-001", category_33, rm, FRAMEWORK, D(2021, 1, 1), D(2025, 12, 31))
    # Joint case C ended with 2025: not active in 2026.
    savings_record(rm, "300000", "200000", method, tender=c)
    # RSD's own framework, 1 January – 31 March 2026 (90 days): 60,000.
    own = {"category": category_33}
    savings_record(rsd, "200000", "140000", method, kind=FRAMEWORK, contract_start=D(2026, 1, 1),
                   contract_end=D(2026, 3, 31), **own)  # fmt: skip
    # RM's own one-off from 2027; RH's own contract without a start: neither counts.
    savings_record(rm, "100000", "90000", method, kind=ONE_OFF, contract_start=D(2027, 1, 1), **own)
    savings_record(rh, "10000", "5000", method, kind=ONE_OFF, **own)

    run = KpiRun.objects.create(status=KpiRun.Status.DONE, finished_at=timezone.now())
    compliance_snapshot(rm, 2026, "0.8", run=run)
    compliance_snapshot(rm, 2026, "0.1", run=run, current=False)  # replaced by a later run
    compliance_snapshot(rm, 2025, "0.3", run=run)
    compliance_snapshot(rsd, 2026, "0.5", run=run)
    return regions


EXPECTED_2026 = {
    "year": 2026,
    "currency": "DKK",
    # B (100,000) and RSD's own (60,000) start in 2026.
    "new_annual_savings": 160000,
    # A-RM 200,000 + A-RSD 50,000 + B-RM 100,000 + RSD's own 60,000.
    "active_annual_savings": 410000,
    "by_origin": {"joint": 350000, "regional": 60000},
    # A and RSD's own are frameworks; B is a one-off purchase.
    "by_kind": {"framework": 310000, "one_off": 100000},
    "per_region": {
        "RH": {"active": 0, "realised": 0},
        # 200,000 × 0.8 × 365/365 + 100,000 × 0.8 × 184/365 = 160,000 + 40,328.77
        "RM": {"active": 300000, "realised": 200328.77},
        "RN": {"active": 0, "realised": 0},
        # 50,000 × 0.5 × 365/365 + 60,000 × 0.5 × 90/365 = 25,000 + 7,397.26
        "RSD": {"active": 110000, "realised": 32397.26},
        "RSJ": {"active": 0, "realised": 0},
    },
    # A: 250,000 ÷ 1,500,000; B: 100,000 ÷ 400,000. C is not active in 2026.
    "price_reduction": {"FUP-2024-001": 0.1667, "FUP-2026-001": 0.25},
}


def report(*args) -> str:
    out = io.StringIO()
    call_command("savings_report", *args, stdout=out)
    return out.getvalue()


def test_savings_report_json_has_every_key_worked_out_by_hand(ledger):
    assert json.loads(report("--year", "2026")) == EXPECTED_2026


def test_savings_report_csv_flattens_the_same_keys(ledger):
    rows = list(csv.reader(io.StringIO(report("--year", "2026", "--format", "csv"))))
    assert rows[0] == ["key", "value"]
    values = dict(rows[1:])
    assert values["active_annual_savings"] == "410000"
    assert values["by_origin.regional"] == "60000"
    assert values["by_kind.one_off"] == "100000"
    assert values["per_region.RSD.realised"] == "32397.26"
    assert values["price_reduction.FUP-2024-001"] == "0.1667"
    assert len(values) == 4 + 2 + 2 + 5 * 2 + 2


def test_a_region_without_a_compliance_figure_has_no_realised_saving(ledger):
    KpiSnapshot.objects.filter(region=ledger["RSD"]).delete()

    data = json.loads(report("--year", "2026"))

    assert data["per_region"]["RSD"] == {"active": 110000, "realised": None}
    assert data["per_region"]["RM"]["realised"] == 200328.77


def test_another_year_counts_other_contracts(ledger):
    data = savings.savings_report(2025)

    # A (250,000) and C (100,000) run in 2025; nothing starts in 2025.
    assert data["new_annual_savings"] == 0
    assert data["active_annual_savings"] == Decimal("350000.00")
    assert data["by_origin"] == {"joint": Decimal("350000.00"), "regional": Decimal("0.00")}
    # RM: (200,000 + 100,000) × 0.3.
    assert data["per_region"]["RM"] == {
        "active": Decimal("300000.00"),
        "realised": Decimal("90000.00"),
    }
    # C: 100,000 ÷ 300,000.
    assert data["price_reduction"]["FUP-2020-001"] == Decimal("0.3333")


def test_realised_is_pro_rata_for_a_contract_starting_and_ending_within_the_year(regions):
    saving = savings.ActiveSaving(
        SavingsRecord(baseline_annual_cost=Decimal("730000"), new_annual_cost=Decimal("0")),
        D(2026, 3, 1),
        D(2026, 5, 31),
    )
    # 92 days of 365: 730,000 × 0.5 × 92/365 = 92,000.
    assert saving.days_in(2026) == 92
    assert savings.realised(saving, 2026, Decimal("0.5")) == Decimal("92000")
    # A leap year has 366 days: a contract for all of 2028 is realised in full.
    whole = savings.ActiveSaving(saving.record, D(2028, 1, 1), None)
    assert whole.days_in(2028) == 366
    assert savings.realised(whole, 2028, Decimal("1")) == Decimal("730000")
    assert whole.days_in(2027) == 0


def test_a_record_needs_a_tender_or_a_category_and_kind(regions, category_33):
    method = SavingsMethod.objects.create(code="price", label_da="Prissammenligning")
    with pytest.raises(IntegrityError):
        savings_record(regions["RM"], "100", "90", method, category=category_33)


def test_every_savings_report_key_is_documented_in_the_readme(ledger):
    from pathlib import Path

    from django.conf import settings

    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    section = readme.split("## savings_report JSON keys", 1)[1].split("\n## ", 1)[0]
    data = json.loads(report("--year", "2026"))

    for key, value in data.items():
        assert f"`{key}" in section, key
        if key in ("by_origin", "by_kind"):
            for sub in value:
                assert f"`{key}.{sub}`" in section, sub
    for sub in data["per_region"]["RM"]:
        assert f"`per_region.<code>.{sub}`" in section, sub
    assert "`price_reduction.<reference>`" in section


def test_a_regions_officers_record_its_own_contracts_savings_and_correct_them(
    regions, category_33, officer_rm, officer_rsd
):
    from django.core.exceptions import PermissionDenied, ValidationError

    from tenders import services

    method = SavingsMethod.objects.create(code="price", label_da="Prissammenligning")
    values = {
        "region": regions["RM"],
        "category": category_33,
        "kind": FRAMEWORK,
        "baseline_annual_cost": Decimal("1000"),
        "new_annual_cost": Decimal("800"),
        "method": method,
        "contract_start": D(2026, 1, 1),
        "contract_end": None,
    }
    with pytest.raises(PermissionDenied):
        services.savings_record_regional(actor=officer_rsd, **values)
    with pytest.raises(ValidationError) as failure:
        services.savings_record_regional(actor=officer_rm, **{**values, "kind": "lease"})
    assert set(failure.value.message_dict) == {"kind"}

    first = services.savings_record_regional(actor=officer_rm, **values)
    again = services.savings_record_regional(
        actor=officer_rm, **{**values, "new_annual_cost": Decimal("700")}
    )

    assert again.pk == first.pk
    assert (again.tender, again.stage, again.annual_saving) == (None, AWARDED, Decimal("300"))
    assert again.recorded_by == officer_rm
    assert savings.savings_report(2026)["by_origin"]["regional"] == Decimal("300.00")
