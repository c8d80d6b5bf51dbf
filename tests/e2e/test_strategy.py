"""Strategies in a real browser (issue 13 §1, §4): a chief reads the dashboard judged by the
strategy in force, and a year outside every strategy without verdicts; the secretariat
creates the next strategy from a copy of the previous one and updates the action plan.

The figures are computed for real from the hand-made world of tests/kpi/kpi_data.py: the
reference strategy 2015–2020 and the fixture's successor 2021–2027 (TEST-2027, baseline
2014). RM's contract coverage of goods 2025 is 93.9 % against the successor's ≥ 80 %.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_tender_plan import assert_no_csp_violations

pytestmark = pytest.mark.e2e


@pytest.fixture
def computed(transactional_db):
    from kpi.services import kpi_recompute
    from tests.kpi import kpi_data

    world = kpi_data.build()
    kpi_recompute()
    return world


def _user(username: str, **fields):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)


@pytest.fixture
def chief(computed):
    from rfi.models import Membership

    user = _user("e2e-strategy-chief")
    Membership.objects.create(user=user, region=computed.regions["RM"], role=Membership.Role.CHIEF)
    return user


@pytest.fixture
def secretary(computed):
    return _user("e2e-strategy-secretariat", is_staff=True)


def test_a_chief_sees_verdicts_in_a_strategy_year_and_none_outside(
    e2e_page, chief, log_in, console_errors
):
    page = e2e_page
    main = page.get_by_role("main")
    log_in(page, chief.username)

    # 2025: judged by the strategy in force (TEST-2027): 93,9 % ≥ 80,0 % ✓
    page.goto("/kpi/?year=2025")
    goods = main.get_by_test_id("kpi-card-contract_coverage_goods")
    expect(goods.get_by_test_id("kpi-value")).to_have_text("93,9 %")
    expect(goods.get_by_test_id("kpi-target")).to_contain_text("80,0 %")
    expect(goods.get_by_test_id("kpi-status")).to_contain_text("✓")
    expect(main).to_contain_text("Teststrategi 2021–2027")

    # 2014 (RM's baseline lines): no strategy then, so figures but no target, no verdict
    page.goto("/kpi/?year=2014")
    expect(main.get_by_test_id("no-strategy")).to_contain_text("Ingen strategi for 2014")
    addressable = main.get_by_test_id("kpi-card-addressable_spend")
    expect(addressable.get_by_test_id("kpi-value")).to_be_visible()
    goods = main.get_by_test_id("kpi-card-contract_coverage_goods")
    expect(goods.get_by_test_id("kpi-status")).to_contain_text("Ingen strategi for 2014")
    expect(main.get_by_test_id("kpi-status").filter(has_text="✗")).to_have_count(0)

    # the collaboration dashboard for 2014 counts no targets met or missed
    page.goto("/kpi/samarbejde/?year=2014")
    expect(main.get_by_test_id("strategy-progress")).to_contain_text("Ingen strategi for 2014")
    assert_no_csp_violations(console_errors)


def test_the_secretariat_creates_a_strategy_by_copy_and_updates_the_plan(
    e2e_page, secretary, log_in, console_errors
):
    from kpi.models import Strategy

    page = e2e_page
    main = page.get_by_role("main")
    log_in(page, secretary.username)

    # given: the strategies page, with the reference strategy and the successor
    page.goto("/kpi/strategier/")
    expect(main.get_by_test_id("strategy-RFI-2020")).to_be_visible()
    main.get_by_test_id("strategy-create").click()

    # when: they copy the latest strategy for the years after it (pre-filled)
    expect(main.get_by_label("Første år")).to_have_value("2028")
    expect(main.get_by_label("Sidste år")).to_have_value("2034")
    expect(main.get_by_label("Basisår")).to_have_value("2027")
    main.get_by_label("Navn").fill("Strategi 2028–2034")
    main.get_by_label("Kode").fill("RFI-2034")
    main.get_by_role("button", name="Opret strategi").click()

    # then: the new strategy is listed with the copied targets and action plan
    new = main.get_by_test_id("strategy-RFI-2034")
    expect(new).to_contain_text("2028–2034")
    expect(new).to_contain_text("≥ 80,0 %")
    expect(new).to_contain_text("26 aktiviteter")
    created = Strategy.objects.get(code="RFI-2034")
    assert created.copied_from.code == "TEST-2027"
    assert created.targets.count() == 11

    # when: they open its action plan and mark the first activity as in progress
    new.get_by_role("link", name="Handlingsplanen: 26 aktiviteter").click()
    first = main.get_by_test_id("activity").first
    first.get_by_label("Status").select_option("in_progress")
    first.get_by_label("Note").fill("Arbejdsgruppe nedsat")
    first.get_by_role("button", name="Gem").click()

    # then: the page shows it, and it is stored
    expect(page.locator(".message, [role=alert], .messages").first).to_be_visible()
    activity = created.activities.order_by("position").first()
    assert (activity.status, activity.note) == ("in_progress", "Arbejdsgruppe nedsat")
    expect(main.get_by_test_id("action-plan-summary")).to_contain_text("I gang: 1")
    assert_no_csp_violations(console_errors)
