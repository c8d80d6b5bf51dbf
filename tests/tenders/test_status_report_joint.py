"""The status report as the regions publish it (issue 13 §6, docs/status-report.md).

Joint tenders only (two participating regions, the lead included; a partner-led case
when two regions take part), upcoming cases up to the horizon (end of next year), and
the report as the plan stood on a past day, rebuilt from the history tables.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from rfi.models import PartnerBody
from tenders import selectors, services
from tenders.models import OptOutReason, Participation, TenderCase
from tenders.reference import plan_reference_load
from tests.conftest import client_for
from tests.tenders.test_excel import cpv

pytestmark = pytest.mark.django_db

GOODS = TenderCase.Area.GOODS_SERVICES
MEDICO = TenderCase.Area.MEDICO_ACQUISITIONS
MIO = Decimal("1000000")
README = Path(settings.BASE_DIR) / "README.md"
JUSTIFICATION = "Regionen har en gældende aftale på området, som først udløber om to år."


def case(secretariat, reference, *, lead, area=GOODS, mio=1, **fields) -> TenderCase:
    lead_fields = {"lead_partner": lead} if isinstance(lead, PartnerBody) else {"lead_region": lead}
    return services.tender_create(
        actor=secretariat,
        reference=reference,
        title=reference,
        category=cpv("30192000"),
        area=area,
        kind=TenderCase.Kind.FRAMEWORK,
        has_options=True,
        estimated_annual_value=mio * MIO,
        **lead_fields,
        **fields,
    )


def take_part(secretariat, tender, *codes, status=Participation.Status.FULL) -> None:
    for code in codes:
        services.participation_decide(
            participation=tender.participations.get(region__code=code),
            actor=secretariat,
            status=status,
            option_expected_join=dt.date(2030, 1, 1)
            if status == Participation.Status.OPTION
            else None,
        )


def in_tender(start: dt.date) -> dict:
    return {
        "status": TenderCase.Status.IN_TENDER,
        "expected_tender_start": start,
        "publication_date": start,
    }


def in_contract() -> dict:
    return {
        "status": TenderCase.Status.IN_CONTRACT,
        "publication_date": dt.date(2024, 1, 10),
        "award_date": dt.date(2024, 4, 1),
        "contract_start": dt.date(2024, 6, 1),
    }


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def horizon_end(today) -> dt.date:
    return dt.date(today.year + 1, 12, 31)


@pytest.fixture
def plan(regions, secretariat, today, horizon_end):
    """Nine cases; four count. Hand-worked figures in the tests below."""
    amgros = PartnerBody.objects.get(code="AMGROS")
    soon = {"expected_tender_start": today + dt.timedelta(days=30)}
    # A: joint, planned within the horizon: RM (lead) + RSD → counts, 10 mio. goods
    a = case(secretariat, "A", lead=regions["RM"], mio=10, **soon)
    take_part(secretariat, a, "RM", "RSD")
    # B: RH alone → not joint
    b = case(secretariat, "B", lead=regions["RH"], mio=4, **soon)
    take_part(secretariat, b, "RH")
    # C: lead RSJ has not filled in its own row, RN on an option; starts exactly on the
    # horizon → counts (the lead always takes part), 6 mio. medico
    c = case(
        secretariat, "C", lead=regions["RSJ"], area=MEDICO, mio=6, expected_tender_start=horizon_end
    )
    take_part(secretariat, c, "RN", status=Participation.Status.OPTION)
    # D: joint, but expected to start the day after the horizon → left out
    d = case(
        secretariat,
        "D",
        lead=regions["RM"],
        mio=50,
        expected_tender_start=horizon_end + dt.timedelta(days=1),
    )
    take_part(secretariat, d, "RM", "RH", "RSD")
    # E: joint, planned with no expected start → left out
    e = case(secretariat, "E", lead=regions["RM"], mio=70)
    take_part(secretariat, e, "RM", "RH")
    # F: Amgros pilot with RH and RM → counts, 3 mio. medico
    f = case(secretariat, "F", lead=amgros, area=MEDICO, mio=3, **in_tender(today))
    take_part(secretariat, f, "RH", "RM")
    # G: Amgros pilot with RSD only → not joint
    g = case(secretariat, "G", lead=amgros, area=MEDICO, mio=7, **in_tender(today))
    take_part(secretariat, g, "RSD")
    # H: in contract, RSD (lead) + RM + RH → counts, 20 mio. goods
    h = case(secretariat, "H", lead=regions["RSD"], mio=20, **in_contract())
    take_part(secretariat, h, "RSD", "RM", "RH")
    # I: ended → never counted
    i = case(
        secretariat,
        "I",
        lead=regions["RM"],
        mio=90,
        **in_contract() | {"status": TenderCase.Status.ENDED, "contract_end": dt.date(2025, 5, 31)},
    )
    take_part(secretariat, i, "RM", "RH")


def test_only_joint_tenders_within_the_horizon_count(plan, today, horizon_end):
    report = selectors.status_report()

    assert report["as_of"] == today
    assert report["horizon_end"] == horizon_end
    assert report["cells"] == {
        "upcoming_current.goods_services": {"tenders": 1, "annual_value": 10 * MIO},  # A
        "upcoming_current.medico_acquisitions": {"tenders": 2, "annual_value": 9 * MIO},  # C F
        "in_contract.goods_services": {"tenders": 1, "annual_value": 20 * MIO},  # H
        "in_contract.medico_acquisitions": {"tenders": 0, "annual_value": Decimal("0")},
    }
    assert report["tenders"] == 4
    assert report["annual_value"] == 39 * MIO
    # A 2 + C 2 + F 2 + H 3 = 9 participating regions over 4 tenders and 5 regions
    assert report["regions_per_tender"] == pytest.approx(9 / 4)
    assert report["tenders_per_region"] == pytest.approx(9 / 5)
    assert report["per_region"] == {"RM": 3, "RSD": 2, "RH": 2, "RSJ": 1, "RN": 1}
    assert report["left_out"] == {"not_joint": 2, "beyond_horizon": 2}  # B G; D E


def test_fup_overview_prints_the_joint_report_with_as_of_and_the_horizon(plan, today, horizon_end):
    out = io.StringIO()
    call_command("fup_overview", stdout=out)

    data = json.loads(out.getvalue())
    assert data["as_of"] == today.isoformat()
    assert data["horizon_end"] == horizon_end.isoformat()
    assert data["tenders"] == 4
    assert data["annual_value"] == 39000000
    assert data["upcoming_current"]["medico_acquisitions"] == {
        "tenders": 2,
        "annual_value": 9000000,
    }
    assert data["regions_per_tender"] == 2.25
    assert data["tenders_per_region"] == 1.8
    assert data["per_region"] == {"RH": 2, "RM": 3, "RN": 1, "RSD": 2, "RSJ": 1}


def test_every_json_key_is_kept_and_the_new_ones_are_documented(plan):
    out = io.StringIO()
    call_command("fup_overview", stdout=out)
    data = json.loads(out.getvalue())
    section = README.read_text(encoding="utf-8").split("## fup_overview JSON keys", 1)[1]
    section = section.split("\n## ", 1)[0]

    assert set(data) == {
        "generated_on",
        "as_of",
        "horizon_end",
        "currency",
        "tenders",
        "annual_value",
        "regions_per_tender",
        "tenders_per_region",
        "upcoming_current",
        "in_contract",
        "per_region",
    }
    for key in ("as_of", "horizon_end"):
        assert re.search(rf"^\| `{key}` \| .+", section, flags=re.M), key


def test_the_page_shows_the_horizon_and_counts_joint_tenders(plan, secretariat, horizon_end):
    response = client_for(secretariat).get(reverse("tenders:status_report"))

    html = response.content.decode()
    assert f'data-testid="horizon-end">{horizon_end:%d-%m-%Y}<' in html
    assert re.search(r'data-testid="regions-per-tender">2,3<', html)  # 9 / 4 = 2.25
    assert re.search(r'data-testid="tenders-per-region">1,8<', html)
    assert "39.000.000 kr." in html
    assert 'name="as_of"' in html


# The plan as it stood on a past day ---------------------------------------------------------


@pytest.fixture
def history(regions, secretariat, today):
    """P and Z as they stood last year, then today's changes: RSD leaves P, Q and Y, Z goes."""
    plan_reference_load()
    last_year = today.year - 1
    p = case(
        secretariat, "P", lead=regions["RM"], mio=5, expected_tender_start=dt.date(last_year, 9, 1)
    )
    take_part(secretariat, p, "RM", "RSD")
    # Q starts after last year's horizon (end of this year) but within today's.
    q = case(
        secretariat,
        "Q",
        lead=regions["RH"],
        area=MEDICO,
        mio=2,
        expected_tender_start=dt.date(today.year + 1, 6, 1),
    )
    take_part(secretariat, q, "RH", "RN")
    z = case(secretariat, "Z", lead=regions["RSD"], mio=8, **in_contract())
    take_part(secretariat, z, "RSD", "RH")
    then = dt.datetime(last_year, 3, 1, 12, 0, tzinfo=dt.UTC)
    TenderCase.history.update(history_date=then)
    Participation.history.update(history_date=then)
    # today
    services.participation_decide(
        participation=p.participations.get(region__code="RSD"),
        actor=secretariat,
        status=Participation.Status.OPTED_OUT,
        reason=OptOutReason.objects.get(code="clinical-needs"),
        justification=JUSTIFICATION,
    )
    y = case(secretariat, "Y", lead=regions["RM"], area=MEDICO, mio=1, **in_tender(today))
    take_part(secretariat, y, "RM", "RSJ")
    z.delete()
    return dt.date(last_year, 3, 31)


def test_as_of_rebuilds_the_plan_from_the_history(history, today):
    past = selectors.status_report(as_of=history)
    now = selectors.status_report()

    # Last year: P (RM + RSD) planned, Z in contract; Q beyond that day's horizon; no Y.
    assert past["as_of"] == history
    assert past["horizon_end"] == dt.date(today.year, 12, 31)
    assert past["cells"]["upcoming_current.goods_services"]["tenders"] == 1
    assert past["cells"]["in_contract.goods_services"]["annual_value"] == 8 * MIO
    assert past["cells"]["upcoming_current.medico_acquisitions"]["tenders"] == 0
    assert (past["tenders"], past["annual_value"]) == (2, 13 * MIO)
    assert past["per_region"] == {"RM": 1, "RSD": 2, "RH": 1}
    assert past["left_out"] == {"not_joint": 0, "beyond_horizon": 1}
    # Today: RSD has left P (RM alone), Z is gone, Q is within the horizon, Y is new.
    assert (now["tenders"], now["annual_value"]) == (2, 3 * MIO)
    assert now["cells"]["upcoming_current.medico_acquisitions"]["tenders"] == 2
    assert now["per_region"] == {"RH": 1, "RN": 1, "RM": 1, "RSJ": 1}
    assert now["left_out"] == {"not_joint": 1, "beyond_horizon": 0}


def test_fup_overview_as_of_prints_the_past_report(history, today):
    out = io.StringIO()
    call_command("fup_overview", "--as-of", history.isoformat(), stdout=out)

    data = json.loads(out.getvalue())
    assert data["generated_on"] == today.isoformat()
    assert data["as_of"] == history.isoformat()
    assert data["horizon_end"] == f"{today.year}-12-31"
    assert data["tenders"] == 2
    assert data["annual_value"] == 13000000
    assert data["regions_per_tender"] == 2


def test_fup_overview_refuses_a_future_or_malformed_date(db, today):
    with pytest.raises(CommandError, match="future"):
        call_command("fup_overview", "--as-of", (today + dt.timedelta(days=1)).isoformat())
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("fup_overview", "--as-of", "31-03-2025")


def test_the_page_offers_the_report_on_a_past_day(history, secretariat, today):
    client = client_for(secretariat)

    response = client.get(reverse("tenders:status_report"), {"as_of": history.isoformat()})

    html = response.content.decode()
    assert f'data-testid="as-of">{history:%d-%m-%Y}<' in html
    assert f'data-testid="horizon-end">31-12-{today.year}<' in html
    assert "13.000.000 kr." in html
    future = client.get(
        reverse("tenders:status_report"),
        {"as_of": (today + dt.timedelta(days=3)).isoformat()},
    )
    assert future.status_code == 200
    assert "Vælg i dag eller en dag i fortiden." in future.content.decode()
    assert f'data-testid="as-of">{today:%d-%m-%Y} (i dag)<' in future.content.decode()


def test_the_excel_download_follows_the_pages_date(history, secretariat, today):
    from openpyxl import load_workbook

    client = client_for(secretariat)
    page = client.get(reverse("tenders:status_report"), {"as_of": history.isoformat()})
    link = f"{reverse('tenders:status_report_export')}?as_of={history.isoformat()}"

    response = client.get(link)

    assert f'href="{link}"' in page.content.decode()
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [r[2] for r in rows[1:5]] == [1, 0, 1, 0]  # P planned, Z in contract (goods)
    assert rows[5][3] == 13 * MIO
