"""Suppliers' e-mail alerts in a real browser: subscribe, confirm by the mailed link, unsubscribe.

Form controls are found by their ``name`` and buttons by their type, so a later Danish
translation of the texts does not break the test. The live server runs in this
process, so the mails land in ``django.core.mail.outbox``.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.test_login_and_language import assert_no_csp_violations, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def public_plan(regions):
    from tests.public.conftest import build_plan

    return build_plan(regions)


def test_supplier_subscribes_from_a_filter_confirms_and_unsubscribes(
    e2e_page, public_plan, artifacts_dir, console_errors, live_server
):
    from suppliers.models import Subscription

    page = e2e_page
    # given: the alert form, started from the portal's filter
    page.goto("/udbud/abonnement/?category=33100000&region=RM")
    form = page.get_by_role("main").locator("form")
    expect(form.locator("input[name=categories]")).to_have_value("33100000")
    expect(form.locator("input[name=regions][value=RM]")).to_be_checked()

    # when: a bad code first, then a good one
    form.locator("input[name=email]").fill("salg@leverandor.example")
    form.locator("input[name=categories]").fill("33100000, 12")
    form.locator("button[type=submit]").click()
    expect(page.get_by_role("main").locator(".error")).to_contain_text("12")
    assert not Subscription.objects.exists()
    page.get_by_role("main").locator("input[name=categories]").fill("33100000")
    page.get_by_role("main").locator("form button[type=submit]").click()

    # then: "check your e-mail", and one mail with the link
    expect(page).to_have_url(re.compile(r"/udbud/abonnement/sendt/$"))
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/udbud/abonnement/bekraeft/\S+/)", mail.outbox[0].body)
    screenshot(page, artifacts_dir, "alerts-sent.png")

    # when: the link is opened and confirmed
    page.goto(link.group(1))
    page.get_by_role("main").locator("form button[type=submit]").click()

    # then
    expect(page.get_by_role("main").get_by_role("status")).to_be_visible()
    assert Subscription.objects.get().confirmed_at is not None
    screenshot(page, artifacts_dir, "alerts-confirmed.png")

    # when: the unsubscribe link of the page is used
    page.get_by_role("main").locator("a[href*='/afmeld/']").click()
    page.get_by_role("main").locator("form button[type=submit]").click()

    # then
    expect(page.get_by_role("main").get_by_role("status")).to_be_visible()
    assert Subscription.objects.get().unsubscribed_at is not None
    assert_no_csp_violations(console_errors)


def test_the_alert_form_works_without_javascript(e2e_browser, live_server, public_plan):
    from suppliers.models import Subscription

    context = e2e_browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/udbud/abonnement/")
        form = page.get_by_role("main").locator("form")
        form.locator("input[name=email]").fill("nojs@leverandor.example")
        form.locator("input[name=regions][value=RSD]").check()
        form.locator("button[type=submit]").click()

        expect(page).to_have_url(re.compile(r"/udbud/abonnement/sendt/$"))
        subscription = Subscription.objects.get()
        assert [region.code for region in subscription.regions.all()] == ["RSD"]
    finally:
        context.close()
