"""The KPI dashboards' figures read at a glance: compact money headlines, chart words, years
with figures only (issue 16 §4). Figures from tests/kpi/dashboard_data.py."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.conf import settings
from django.urls import reverse

from kpi.models import KpiRun, KpiSnapshot
from tests.conftest import client_for
from tests.kpi import dashboard_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures(db):
    return dashboard_data.build()


def headline(response, key: str) -> str:
    html = response.content.decode()
    card = re.search(rf'data-testid="kpi-card-{key}".*?</article>', html, re.S).group(0)
    value = re.search(r'data-testid="kpi-value">(.*?)</p>', card, re.S).group(1)
    return unescape(value).strip()


def year_options(response) -> list[str]:
    html = response.content.decode()
    select = re.search(r'<select id="kpi-year" name="year">(.*?)</select>', html, re.S)
    return re.findall(r'<option value="(\d+)"', select.group(1))


def test_money_headlines_read_in_millions_and_billions(figures, chief, secretariat):
    danish = client_for(chief).get(reverse("kpi:index"), {"year": 2025})
    english = client_for(secretariat)
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    collaboration = english.get(reverse("kpi:collaboration"), {"year": 2025})

    assert headline(danish, "addressable_spend") == "12,3 mio. kr."
    assert headline(danish, "contract_coverage_goods") == "82,3 %"  # not money: unchanged
    assert headline(collaboration, "joint_agreement_spend") == "DKK 1.5 bn"
    # the table beside the chart keeps whole kroner
    assert "12.345.678 kr." in danish.content.decode()


def test_the_charts_get_the_words_for_their_money_axes(figures, chief):
    html = client_for(chief).get(reverse("kpi:index"), {"year": 2025}).content.decode()

    words = json.loads(
        re.search(
            r'<script id="chart-money-words" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert words["million"] == "{} mio. kr." and words["billion"] == "{} mia. kr."


def test_the_year_picker_offers_only_years_with_figures(figures, chief):
    run = KpiRun.objects.first()
    rm = figures["RM"]
    # 2019 was computed but has no figure at all
    dashboard_data.snapshot(run, "contract_coverage_goods", rm, 2019, None)
    assert KpiSnapshot.objects.filter(period_start__year=2019).exists()

    response = client_for(chief).get(reverse("kpi:index"), {"year": 2025})

    assert year_options(response) == ["2025", "2024"]
