"""The status report in a real browser: today's joint tenders, then the plan as it stood
on a past day, chosen in the page's date field (issue 13 §6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.test_tender_plan import assert_no_csp_violations

pytestmark = pytest.mark.e2e


@pytest.fixture
def plan_with_history(regions, officer):
    """Last year: P (RM + RSD, 5 mio.) planned. Today: P cancelled, Y (RM + RH, 1 mio.) new."""
    from django.utils import timezone

    from rfi.models import Category
    from tenders import services
    from tenders.models import Participation, TenderCase

    category = Category.objects.create(
        code="30192000", check_digit="1", label_da="Kontorartikler", label_en="Office", level=3
    )
    last_year = timezone.localdate().year - 1

    def joint(title, mio, partner, **fields):
        tender = services.tender_create(
            actor=officer,
            title=title,
            category=category,
            area=TenderCase.Area.GOODS_SERVICES,
            kind=TenderCase.Kind.FRAMEWORK,
            lead_region=regions["RM"],
            estimated_annual_value=Decimal(mio) * 1_000_000,
            **fields,
        )
        for participation in tender.participations.filter(region__code__in=["RM", partner]):
            participation.status = Participation.Status.FULL
            participation.save()
        return tender

    p = joint("Kontorartikler", 5, "RSD", expected_tender_start=dt.date(last_year, 9, 1))
    then = dt.datetime(last_year, 3, 1, 12, 0, tzinfo=dt.UTC)
    TenderCase.history.update(history_date=then)
    Participation.history.update(history_date=then)
    services.tender_update(tender=p, actor=officer, status=TenderCase.Status.CANCELLED)
    today = timezone.localdate()
    joint(
        "Kopipapir",
        1,
        "RH",
        status=TenderCase.Status.IN_TENDER,
        expected_tender_start=today,
        publication_date=today,
    )
    return dt.date(last_year, 3, 31)


def test_an_officer_reads_the_status_report_as_it_stood_on_a_past_day(
    e2e_page, officer, plan_with_history, log_in, artifacts_dir, console_errors
):
    page = e2e_page
    main = page.get_by_role("main")
    this_year = plan_with_history.year + 1

    # given: the officer, signed in, on the status report of today's plan
    log_in(page, officer.username)
    page.goto("/fup/status/")
    expect(main.get_by_test_id("horizon-end")).to_have_text(f"31-12-{this_year + 1}")
    total = main.locator("table.status-report tfoot")
    expect(total).to_contain_text("1.000.000 kr.")

    # when: they ask for the plan as it stood on 31 March last year
    main.get_by_label("Planen som den så ud den").fill(plan_with_history.isoformat())
    main.get_by_role("button", name="Vis rapporten").click()

    # then: last year's joint tender and last year's horizon
    expect(main.get_by_test_id("as-of")).to_have_text(plan_with_history.strftime("%d-%m-%Y"))
    expect(main.get_by_test_id("horizon-end")).to_have_text(f"31-12-{this_year}")
    expect(total).to_contain_text("5.000.000 kr.")
    expect(main.get_by_test_id("regions-per-tender")).to_have_text("2,0")
    page.screenshot(path=str(artifacts_dir / "status-report-as-of.png"), full_page=True)
    assert_no_csp_violations(console_errors)
