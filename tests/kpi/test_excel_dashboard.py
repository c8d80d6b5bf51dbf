"""The dashboard as .xlsx: one sheet per view, targets beside values, ratios as percentages."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from tests.conftest import client_for
from tests.kpi import dashboard_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures(db):
    return dashboard_data.build()


def workbook(user, **params):
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("kpi:export"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return response, load_workbook(io.BytesIO(response.content))


def rows_by_key(ws, key_column: int = 9) -> dict[str, list]:
    """Data rows of a cards sheet, by the KPI key in its last column."""
    result = {}
    for row in ws.iter_rows(values_only=False):
        key = row[key_column - 1].value if len(row) >= key_column else None
        if key and key != "Key":
            result[key] = row
    return result


def test_a_chief_gets_every_view_as_a_sheet(figures, chief):
    response, wb = workbook(chief, year=2025)

    assert response["Content-Disposition"] == 'attachment; filename="kpi-RM-2025.xlsx"'
    assert wb.sheetnames == [
        "Region RM 2025",
        "Years",
        "Months 2025",
        "Regions side by side",
        "Collaboration",
        "Outstanding decisions",
    ]


def test_values_stand_beside_their_targets_as_percentages(figures, chief):
    _response, wb = workbook(chief, year=2025)

    rows = rows_by_key(wb["Region RM 2025"])
    goods = rows["contract_coverage_goods"]
    label, value, comparison, target, status, change = (cell for cell in goods[:6])
    assert label.value == "Contract coverage, goods"
    assert value.value == pytest.approx(0.823) and value.number_format == "0.0%"
    assert comparison.value == "≥"
    assert target.value == pytest.approx(0.80) and target.number_format == "0.0%"
    assert status.value == "On track"
    assert change.value == pytest.approx(0.033) and change.number_format == "0.0%"


def test_not_available_is_empty_with_its_reason_never_zero(figures, chief):
    _response, wb = workbook(chief, year=2025)

    digital = rows_by_key(wb["Region RM 2025"])["digital_order_share_top100"]
    assert digital[1].value is None
    assert digital[6].value == "no"
    assert digital[7].value == "The ledger extracts of RM for 2025 have no ordering-channel column."


def test_money_is_a_number_with_a_thousands_format(figures, chief):
    _response, wb = workbook(chief, year=2025)

    spend = rows_by_key(wb["Region RM 2025"])["addressable_spend"]
    assert spend[1].value == 12345678
    assert spend[1].number_format == "#,##0"
    collaboration = rows_by_key(wb["Collaboration"])
    assert collaboration["joint_agreement_spend"][3].value == 2_000_000_000


def test_the_months_and_the_regions_sheets_have_targets_beside_values(figures, chief):
    _response, wb = workbook(chief, year=2025)

    months = wb["Months 2025"]
    header = [cell.value for cell in months[5]]
    assert header[:5] == ["KPI", "Target", "2025-01", "2025-02", "2025-03"]
    goods = next(row for row in months.iter_rows() if row[0].value == "Contract coverage, goods")
    assert [c.value for c in goods[1:5]] == pytest.approx([0.80, 0.81, 0.83, 0.85])
    regions = wb["Regions side by side"]
    assert [cell.value for cell in regions[5]] == ["KPI", "Target", "RH", "RM", "RN", "RSD", "RSJ"]
    goods = next(row for row in regions.iter_rows() if row[0].value == "Contract coverage, goods")
    assert goods[3].value == pytest.approx(0.823) and goods[5].value == pytest.approx(0.85)


def test_an_officer_gets_their_region_without_the_cross_region_sheets(figures, officer_rsd):
    response, wb = workbook(officer_rsd, year=2025)

    assert response["Content-Disposition"] == 'attachment; filename="kpi-RSD-2025.xlsx"'
    assert wb.sheetnames == ["Region RSD 2025", "Years", "Months 2025"]


def test_an_officer_cannot_export_another_region(figures, officer_rsd):
    response = client_for(officer_rsd).get(reverse("kpi:export"), {"region": "RM"})

    assert response.status_code == 403
