"""The home page as a task list, in a real browser, for each role at 1,366 px and at 390 px.

Each role logs in through the form, sees its own tasks (overdue first for the officer) and
the page never scrolls sideways. Screenshots go to /tmp/home-<role>-<width>.png.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.e2e

WIDTHS = (1366, 390)


@pytest.fixture
def world(regions):
    """One user per role, and one task of each kind for them."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from rfi.models import Category, Membership
    from tenders import services
    from tenders.models import CandidateArea, TenderCase
    from tests.kpi import dashboard_data

    users = {}
    make = get_user_model().objects.create_user
    for name, role in (("officer", "officer"), ("chief", "chief"), ("ufo", "ufo")):
        user = make(username=f"e2e-home-{name}", password=PASSWORD)
        Membership.objects.create(user=user, region=regions["RM"], role=role)
        users[name] = user
    users["secretariat"] = make(username="e2e-home-secretariat", password=PASSWORD, is_staff=True)

    category = Category.objects.create(
        code="33141000", check_digit="0", label_da="Forbrugsvarer", label_en="Consumables", level=4
    )
    today = timezone.localdate()
    for title, deadline in (
        ("Senge til alle afdelinger", today + dt.timedelta(days=14)),
        ("Katetre og kanyler", today - dt.timedelta(days=3)),
        ("Handsker uden frist", None),
    ):
        services.tender_create(
            actor=users["officer"],
            title=title,
            category=category,
            area=TenderCase.Area.MEDICO_ACQUISITIONS,
            kind=TenderCase.Kind.FRAMEWORK,
            lead_region=regions["RM"],
            decision_deadline=deadline,
        )
    CandidateArea.objects.create(title="Infusionspumper", category=category, plan_year=2027)
    CandidateArea.objects.create(
        title="Sårpleje",
        category=category,
        plan_year=2027,
        status=CandidateArea.Status.RECOMMENDED,
        recommended_at=timezone.now(),
    )
    dashboard_data.build()
    return users


EXPECTED = {
    "officer": ["Katetre og kanyler", "Senge til alle afdelinger", "Handsker uden frist"],
    "chief": ["Sårpleje", "Spotindkøb"],
    "ufo": ["Infusionspumper"],
    "secretariat": ["Handsker uden frist"],
}


def _check_home(page, role: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/")
    section = page.get_by_test_id(f"home-{role}")
    expect(section).to_be_visible()
    tasks = section.get_by_test_id("home-task")
    for label in EXPECTED[role]:
        expect(section.get_by_role("link", name=label, exact=False).first).to_be_visible()
    if role == "officer":
        pending = section.get_by_test_id("home-list-pending").get_by_test_id("home-task")
        expect(pending).to_have_count(3)
        expect(pending.first).to_contain_text("Katetre og kanyler")
        expect(pending.first).to_contain_text("Overskredet")
    assert tasks.count() >= len(EXPECTED[role])
    page.screenshot(path=f"/tmp/home-{role}-{width}.png", full_page=True)
    # The task lists themselves never make the page wider than the window.
    main = page.evaluate(
        "(() => { const m = document.getElementById('main');"
        " return [m.scrollWidth, m.clientWidth, Math.ceil(m.getBoundingClientRect().right),"
        " window.innerWidth]; })()"
    )
    assert main[0] <= main[1] and main[2] <= main[3], f"{role} at {width} px: {main}"


def _page_width(page) -> list[int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("role", ["officer", "chief", "ufo", "secretariat"])
def test_each_role_sees_its_tasks_on_the_home_page_at_both_widths(e2e_page, log_in, world, role):
    log_in(e2e_page, world[role].username)
    expect(e2e_page.get_by_role("heading", level=1)).to_be_visible()

    for width in WIDTHS:
        _check_home(e2e_page, role, width)


@pytest.mark.parametrize("role", ["officer", "secretariat"])
def test_the_whole_home_page_never_scrolls_sideways(e2e_page, log_in, world, role):
    log_in(e2e_page, world[role].username)

    for width in WIDTHS:
        e2e_page.set_viewport_size({"width": width, "height": 900})
        e2e_page.goto("/")
        scroll_width, inner_width = _page_width(e2e_page)
        assert scroll_width <= inner_width, f"{role} at {width} px: {scroll_width} > {inner_width}"


def test_a_task_link_opens_the_decision_form(e2e_page, log_in, world):
    log_in(e2e_page, world["officer"].username)
    e2e_page.goto("/")

    pending = e2e_page.get_by_test_id("home-officer").get_by_test_id("home-list-pending")
    pending.get_by_role("link", name="Katetre og kanyler", exact=False).click()

    expect(e2e_page).to_have_url(re.compile(r"/deltagelse/RM/$"))
