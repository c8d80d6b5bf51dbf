"""recompute_kpis and kpi_report, through call_command as an operator runs them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from kpi.models import KpiRun, KpiSnapshot
from tests.kpi import kpi_data

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def computed():
    kpi_data.build()
    run("recompute_kpis")


def test_recompute_kpis_stores_the_figures_and_says_how_many(db):
    kpi_data.build()

    out = run("recompute_kpis")

    run_ = KpiRun.objects.get()
    assert f"KPI run {run_.pk}: {run_.snapshot_count} figures" in out
    assert "not available" in out
    assert KpiSnapshot.objects.filter(is_current=True).count() == run_.snapshot_count


def test_recompute_kpis_for_one_year_and_region(computed):
    out = run("recompute_kpis", "--year", "2025", "--region", "rsd")

    latest = KpiRun.objects.latest("pk")
    assert (latest.year, latest.region.code, latest.scope) == (2025, "RSD", "region")
    assert f"KPI run {latest.pk}" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--region", "XX"), "--region XX: no such region (known: RH, RM, RN, RSD, RSJ)."),
        (("--year", "25"), "--year 25: give a calendar year such as 2025."),
    ],
)
def test_recompute_kpis_refuses_bad_input_and_changes_nothing(regions, args, message):
    with pytest.raises(CommandError) as error:
        run("recompute_kpis", *args)

    assert str(error.value) == message
    assert not KpiRun.objects.exists()


def test_kpi_report_json_prints_every_kpi_as_rows(computed):
    rows = json.loads(run("kpi_report", "--year", "2025", "--format", "json"))

    assert set(rows[0]) == {
        "key",
        "region",
        "period",
        "value",
        "target",
        "unit",
        "available",
        "reason",
        "strategy",
    }
    by = {(r["key"], r["region"]): r for r in rows}
    # A ratio as a fraction, with the strategy's target beside it.
    assert by[("contract_coverage_goods", "RM")] == {
        "key": "contract_coverage_goods",
        "region": "RM",
        "period": "2025",
        "value": 0.938776,
        "target": 0.8,
        "unit": "ratio",
        "available": True,
        "reason": "",
        "strategy": "TEST-2027",
    }
    # Money in DKK; the collaboration has region null.
    assert by[("joint_agreement_spend", None)]["value"] == 3500
    assert by[("joint_agreement_spend", None)]["target"] == 2_000_000_000
    assert by[("joint_agreement_spend", None)]["unit"] == "dkk"
    # Not available: no value, and the reason.
    assert by[("digital_order_share_top100", "RSD")]["value"] is None
    assert by[("digital_order_share_top100", "RSD")]["available"] is False
    assert "ordering-channel" in by[("digital_order_share_top100", "RSD")]["reason"]
    # No target for a KPI the strategy sets none for.
    assert by[("addressable_spend", "RM")]["target"] is None
    # Every per-region KPI for each of the five regions, once.
    assert sum(1 for r in rows if r["key"] == "compliance") == 5
    assert all(r["period"] == "2025" for r in rows)


def test_kpi_report_csv_has_the_same_rows(computed):
    text = run("kpi_report", "--year", "2025", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    as_json = json.loads(run("kpi_report", "--year", "2025"))

    assert text.splitlines()[0] == "key,region,period,value,target,unit,available,reason,strategy"
    assert len(rows) == len(as_json)
    compliance = next(r for r in rows if r["key"] == "compliance" and r["region"] == "RM")
    assert (compliance["value"], compliance["target"], compliance["available"]) == (
        "0.813953",
        "0.95",
        "true",
    )
    collaboration = next(r for r in rows if r["key"] == "regions_per_joint_tender")
    assert collaboration["region"] == ""
    missing = next(r for r in rows if r["key"] == "compliance" and r["region"] == "RSJ")
    assert (missing["value"], missing["available"]) == ("", "false")
    assert missing["reason"] == "No ledger lines for RSJ in 2025."


def test_kpi_report_months_on_request(computed):
    rows = json.loads(run("kpi_report", "--year", "2025", "--periods", "month"))

    assert {r["period"] for r in rows} == {f"2025-{m:02d}" for m in range(1, 13)}


def test_kpi_report_of_a_year_without_figures_says_what_to_do(computed):
    with pytest.raises(CommandError, match="No KPI figures for 1999: run `python manage.py"):
        run("kpi_report", "--year", "1999")
