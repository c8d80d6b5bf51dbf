"""The candidate page's screening figures in a real browser, at 1,366 px and at 390 px.

A UFO member opens a candidate area in CPV 3314 with ledger lines in two regions: the
figures per region and in total, the share on contract and the suggested volume score
are on the page, and at 390 px the page does not scroll sideways (the tables scroll in
their own box).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.e2e

D = dt.date


@pytest.fixture
def screened_candidate(regions):
    from django.contrib.auth import get_user_model

    from rfi.models import Category, Membership
    from spend import matching
    from tenders import services
    from tenders.reference import plan_reference_load
    from tests.spend import spend_data as data

    plan_reference_load()
    data.tree()
    rm, rsd = regions["RM"], regions["RSD"]
    data.contract(rm, "11111111", D(2025, 1, 1), D(2026, 6, 30), code="33140000")
    rm_batch, rsd_batch = data.batch(rm), data.batch(rsd)
    data.lines(
        rm_batch,
        {"posting_date": D(2025, 6, 10), "supplier_id": "11111111", "category_code": "33141110",
         "supplier_name": "Alfa Medico A/S", "amount": 20000},
        {"posting_date": D(2026, 2, 5), "supplier_id": "22222222", "category_code": "33141110",
         "supplier_name": "Beta Sår ApS", "amount": 5000},
    )  # fmt: skip
    data.lines(
        rsd_batch,
        {"posting_date": D(2025, 9, 1), "supplier_id": "22222222", "category_code": "33141000",
         "supplier_name": "Beta Sår ApS", "amount": 38175000},
    )  # fmt: skip
    matching.after_lines_loaded(rm_batch)
    matching.after_lines_loaded(rsd_batch)
    ufo = get_user_model().objects.create_user(username="e2e-ufo", password=PASSWORD)
    Membership.objects.create(user=ufo, region=rm, role=Membership.Role.UFO)
    return services.candidate_create(
        actor=ufo,
        title="Sårpleje",
        category=Category.objects.get(code="33140000"),
        plan_year=2027,
    )


@pytest.mark.parametrize("width", [1366, 390])
def test_the_candidate_page_shows_the_screening_figures(
    e2e_page, screened_candidate, log_in, artifacts_dir, console_errors, width
):
    page = e2e_page
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "e2e-ufo")

    page.goto(f"/fup/ufo/{screened_candidate.pk}/")

    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="Forbrug i kategorien")).to_be_visible()
    expect(main.get_by_text("Tal pr. feb. 2026")).to_be_visible()
    last_12 = main.get_by_test_id("screening-last-12-months")
    expect(last_12.get_by_role("row", name=re.compile("Region Midtjylland"))).to_contain_text(
        "25.000 kr."
    )
    expect(last_12.get_by_role("row", name=re.compile("Region Midtjylland"))).to_contain_text(
        "80,0 %"
    )
    expect(main.get_by_test_id("screening-last-12-months-total")).to_have_text("38.200.000 kr.")
    expect(main.get_by_test_id("volume-suggestion")).to_have_text(
        "Foreslået volumenscore: 4 (årligt forbrug 38,2 mio. kr.)"
    )
    page.screenshot(path=str(artifacts_dir / f"screening-candidate-{width}.png"), full_page=True)
    if width == 390:
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"the page scrolls sideways at 390 px: {widths}"
    assert not [e for e in console_errors if "Content Security Policy" in e]
