"""Issue 13 §4: the strategy's action plan as data, a page for the chiefs to follow it, and
the secretariat keeping it up to date.

The plan (strategy "Strategi 2021–2027", B-2027), today being 01-06-2025:
  1 "Fælles kategoristyring"   RM   due 31-12-2024  in progress  → overdue
  2 "E-ordre-krav"              RSD  due 31-12-2024  done         → not overdue (done)
  3 "Temadag for indkøbere"     RM   due 31-12-2026  not started  → not overdue
  4 "Rekrutteringsindsats"      —    due 31-03-2025  postponed    → overdue
Status counts: not started 1, in progress 1, done 1, postponed 1, cancelled 0; 2 overdue.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kpi import selectors, services
from kpi.models import Strategy, StrategyActivity
from rfi.models import Region
from rfi.services import collaboration_load
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 1)


@pytest.fixture
def plan(db, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    collaboration_load(path=settings.COLLABORATION_FILE)
    rm, rsd = Region.objects.get(code="RM"), Region.objects.get(code="RSD")
    strategy = Strategy.objects.create(
        code="B-2027", name="Strategi 2021–2027", start_year=2021, end_year=2027, baseline_year=2020
    )
    s = StrategyActivity.Status
    rows = [
        ("Fælles kategoristyring", rm, dt.date(2024, 12, 31), s.IN_PROGRESS),
        ("E-ordre-krav", rsd, dt.date(2024, 12, 31), s.DONE),
        ("Temadag for indkøbere", rm, dt.date(2026, 12, 31), s.PLANNED),
        ("Rekrutteringsindsats", None, dt.date(2025, 3, 31), s.POSTPONED),
    ]
    activities = [
        StrategyActivity.objects.create(
            strategy=strategy,
            position=n,
            title=title,
            responsible_region=region,
            due_date=due,
            status=status,
        )
        for n, (title, region, due, status) in enumerate(rows, start=1)
    ]
    return {"strategy": strategy, "activities": activities}


def english(user):
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def activity_rows(response) -> list[tuple[str, bool]]:
    """(title, overdue) of each activity row on the page, in order."""
    html = response.content.decode()
    rows = []
    for match in re.finditer(r'<tr id="activity-\d+" data-testid="activity"(.*?)</tr>', html, re.S):
        body = match.group(1)
        title = re.search(r'<th scope="row">(.*?)(?:<br>|</th>)', body, re.S).group(1)
        rows.append((unescape(title.strip()), 'data-overdue="true"' in body))
    return rows


def text(response) -> str:
    html = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_chief_follows_the_plan_with_overdue_activities_marked(plan, chief):
    response = english(chief).get(reverse("kpi:action_plan"))

    assert response.status_code == 200
    assert activity_rows(response) == [
        ("Fælles kategoristyring", True),
        ("E-ordre-krav", False),
        ("Temadag for indkøbere", False),
        ("Rekrutteringsindsats", True),
    ]
    summary = text(response)
    assert (
        "Not started: 1 · In progress: 1 · Done: 1 · Postponed: 1 · Cancelled: 0 · 2 overdue"
        in summary
    )
    # A chief reads the status; no forms to change it.
    assert "In progress" in summary
    assert reverse("kpi:activity_update", kwargs={"pk": plan["activities"][0].pk}) not in (
        response.content.decode()
    )


def test_filter_by_status_region_and_overdue(plan, chief):
    client = english(chief)
    url = reverse("kpi:action_plan")

    by_region = activity_rows(client.get(url, {"region": "RM"}))
    by_status = activity_rows(client.get(url, {"status": "done"}))
    overdue = activity_rows(client.get(url, {"overdue": "on"}))

    assert [t for t, _ in by_region] == ["Fælles kategoristyring", "Temadag for indkøbere"]
    assert by_status == [("E-ordre-krav", False)]
    assert [t for t, _ in overdue] == ["Fælles kategoristyring", "Rekrutteringsindsats"]


def test_the_secretariat_updates_status_and_note(plan, secretariat):
    activity = plan["activities"][0]
    client = english(secretariat)
    page = client.get(reverse("kpi:action_plan"), {"region": "RM"})
    assert reverse("kpi:activity_update", kwargs={"pk": activity.pk}) in page.content.decode()

    response = client.post(
        reverse("kpi:activity_update", kwargs={"pk": activity.pk}),
        {
            f"a{activity.pk}-status": "done",
            f"a{activity.pk}-note": "  Modellen vedtaget 12-05-2025  ",
            f"a{activity.pk}-next": f"{reverse('kpi:action_plan')}?region=RM",
        },
        follow=True,
    )

    activity.refresh_from_db()
    assert (activity.status, activity.note) == ("done", "Modellen vedtaget 12-05-2025")
    # Back on the filtered page, and no longer overdue now it is done.
    assert response.redirect_chain[-1][0] == f"{reverse('kpi:action_plan')}?region=RM"
    assert activity_rows(response)[0] == ("Fælles kategoristyring", False)
    assert "Activity updated: Fælles kategoristyring" in text(response)


def test_a_bad_status_changes_nothing(plan, secretariat):
    activity = plan["activities"][0]

    english(secretariat).post(
        reverse("kpi:activity_update", kwargs={"pk": activity.pk}),
        {f"a{activity.pk}-status": "finished", f"a{activity.pk}-note": "x"},
    )

    activity.refresh_from_db()
    assert (activity.status, activity.note) == ("in_progress", "")


def test_an_offsite_next_is_ignored(plan, secretariat):
    activity = plan["activities"][0]

    response = english(secretariat).post(
        reverse("kpi:activity_update", kwargs={"pk": activity.pk}),
        {
            f"a{activity.pk}-status": "done",
            f"a{activity.pk}-next": "https://evil.example/",
        },
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("kpi:action_plan"))


def test_seed_reference_loads_the_action_plan_the_sources_list(db):
    call_command("seed_reference", stdout=io.StringIO())

    strategy = Strategy.objects.get(code="RFI-2020")
    activities = list(strategy.activities.order_by("position"))
    # The sources name 29 activities but list 25 "indsatsområder" and the KPI handbook
    # (docs/kpi-strategies.md); all start as not started, due at the strategy's end.
    assert len(activities) == 26
    handbook = next(a for a in activities if a.title.startswith("Udarbejde en KPI-håndbog"))
    assert handbook.due_date == dt.date(2015, 12, 31)
    assert {a.status for a in activities} == {"planned"}
    assert sum(1 for a in activities if a.due_date == dt.date(2020, 12, 31)) == 25
    assert len({a.objective for a in activities}) == 6
    # Loading again adds nothing and keeps the secretariat's updates.
    services.activity_update(activity=activities[0], status="done", note="Løbende")
    call_command("seed_reference", stdout=io.StringIO())
    assert strategy.activities.count() == 26
    assert strategy.activities.get(pk=activities[0].pk).status == "done"


def test_the_action_plan_defaults_to_the_strategy_in_force(plan):
    older = Strategy.objects.create(
        code="A-2020", name="Strategi 2015–2020", start_year=2015, end_year=2020, baseline_year=2014
    )
    StrategyActivity.objects.create(strategy=older, title="Gammel aktivitet")

    assert selectors.strategy_for_year(TODAY.year) == plan["strategy"]
    assert [a.title for a in selectors.activities_for(strategy=older)] == ["Gammel aktivitet"]
