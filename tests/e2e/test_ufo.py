"""UFO in a real browser: a UFO member scores and recommends, a chief approves the area.

Assertions are on visible text and roles; screenshots go to test-artifacts/e2e/.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tenders.models import CandidateVote
from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.e2e

REGION_NAMES = [
    "Region Hovedstaden",
    "Region Midtjylland",
    "Region Nordjylland",
    "Region Sjælland",
    "Region Syddanmark",
]


def screenshot(page, artifacts_dir, name: str) -> None:
    path = artifacts_dir / name
    page.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 0, f"no screenshot written to {path}"


def assert_no_csp_violations(console_errors: list[str]) -> None:
    violations = [error for error in console_errors if "Content Security Policy" in error]
    assert not violations, f"CSP violations in the browser console: {violations}"


@pytest.fixture
def ufo_setup(regions):
    """A candidate area in CPV group 331, where Region Syddanmark has led the most tenders."""
    from django.contrib.auth import get_user_model

    from rfi.models import Category, Membership
    from tenders import services
    from tenders.models import TenderCase
    from tenders.reference import plan_reference_load

    plan_reference_load()
    division = Category.objects.create(
        code="33000000", check_digit="0", label_da="Medicinsk udstyr", label_en="Medical", level=1
    )
    catheters = Category.objects.create(
        code="33141200",
        check_digit="2",
        label_da="Katetre",
        label_en="Catheters",
        level=5,
        parent=division,
    )
    for n, lead in enumerate(["RSD", "RSD", "RM"], start=1):
        TenderCase.objects.create(
            reference=f"FUP-2019-{n:03d}",
            title=f"Tidligere kateterudbud {n}",
            category=catheters,
            area=TenderCase.Area.MEDICO_ACQUISITIONS,
            kind=TenderCase.Kind.FRAMEWORK,
            lead_region=regions[lead],
            status=TenderCase.Status.ENDED,
        )
    users = get_user_model().objects
    ufo = users.create_user(username="e2e-ufo", password=PASSWORD)
    Membership.objects.create(user=ufo, region=regions["RM"], role=Membership.Role.UFO)
    chief = users.create_user(username="e2e-chief", password=PASSWORD)
    Membership.objects.create(user=chief, region=regions["RSD"], role=Membership.Role.CHIEF)
    candidate = services.candidate_create(
        actor=ufo,
        title="Urologiske katetre",
        category=catheters,
        plan_year=2027,
        description="Intermitterende katetre til alle regioner.",
        proposer_region=regions["RM"],
    )
    return {"ufo": ufo, "chief": chief, "candidate": candidate}


def other_chiefs_approve(candidate, regions) -> None:
    """The chiefs of every region but RSD have voted to approve."""
    for code in ("RH", "RM", "RN", "RSJ"):
        CandidateVote.objects.create(
            candidate=candidate,
            region=regions[code],
            decision=CandidateVote.Decision.APPROVE,
            voted_at=timezone.now(),
        )


def test_a_ufo_member_scores_and_a_chief_approves(
    e2e_page, ufo_setup, regions, log_in, artifacts_dir, console_errors
):
    page = e2e_page
    main = page.get_by_role("main")

    # A UFO member scores the candidate area through the form.
    log_in(page, "e2e-ufo")
    page.goto("/fup/ufo/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kandidatområder (UFO)")
    main.get_by_role("link", name="Urologiske katetre").click()
    main.get_by_role("link", name="Scor kandidatområdet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Scor “Urologiske katetre”")
    for criterion, value in (
        ("Indkøbsvolumen og besparelsespotentiale", "5"),
        ("Udbudshistorik", "4"),
        ("Områdets kompleksitet", "3"),
        ("Markedsanalyse", "4"),
    ):
        group = main.get_by_role("group", name=re.compile(f"^{criterion}"))
        # The label is the score and what it means (the rubric): "5 Over 50 mio. kr. …".
        group.get_by_role("radio", name=re.compile(rf"^\s*{value}\b")).check()
    main.get_by_label("Kommentar til Udbudshistorik").fill("Tre tidligere regionale udbud.")
    other = main.get_by_role("group", name=re.compile("^Udbud sammen med anden offentlig aktør"))
    other.get_by_label("Værd at undersøge").check()
    main.get_by_label("Hvilken aktør").select_option(
        label="SKI – Staten og Kommunernes Indkøbsservice"
    )
    screenshot(page, artifacts_dir, "ufo-score.png")
    main.get_by_role("button", name="Gem scoring").click()

    expect(page.get_by_role("status").first).to_contain_text("Din scoring er gemt.")
    # (5+4+3+4)/4 with the seeded equal weights
    expect(main.get_by_text(re.compile(r"^e2e-ufo · vægtet gennemsnit 4,0"))).to_be_visible()
    expect(main).to_contain_text("Tre tidligere regionale udbud.")

    # ... and recommends it to the chiefs.
    main.get_by_role("button", name="Anbefal til indkøbscheferne").click()
    expect(page.get_by_test_id("candidate-status")).to_have_text("Indstillet til indkøbscheferne")
    main.get_by_role("link", name="Kandidatområder (UFO)").click()
    ranking = main.get_by_role("table", name=re.compile("højeste vægtede gennemsnit først"))
    expect(ranking.get_by_role("row").nth(1)).to_contain_text("Urologiske katetre")
    expect(ranking.get_by_role("row").nth(1)).to_contain_text("4,0")
    screenshot(page, artifacts_dir, "ufo-candidates.png")
    page.get_by_role("navigation", name="Hovednavigation").get_by_role(
        "button", name="Log ud"
    ).click()

    # RSD's chief opens the candidate area and casts the last vote to approve.
    other_chiefs_approve(ufo_setup["candidate"], regions)
    log_in(page, "e2e-chief")
    page.goto("/fup/ufo/")
    main.get_by_role("link", name="Urologiske katetre").click()
    main.get_by_role("link", name="Beslut").click()
    expect(main).to_contain_text(
        "Forslag: Region Syddanmark har ledet flest udbud i samme CPV-gruppe"
    )
    # the four other regions' chiefs have approved; RSD's vote completes the unanimity
    expect(main.get_by_role("row").filter(has_text="Region Syddanmark")).to_contain_text(
        "Ikke stemt endnu"
    )
    main.get_by_label("Godkend: start et fælles udbud").check()
    screenshot(page, artifacts_dir, "ufo-decide.png")
    main.get_by_role("button", name="Registrér min regions stemme").click()

    # The new tender case, led by Region Syddanmark, with every region pending.
    expect(page).to_have_url(re.compile(r"/fup/sag/FUP-\d{4}-\d{3}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Urologiske katetre")
    for name in REGION_NAMES:
        row = main.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=name, exact=True)
        )
        expect(row).to_contain_text("Afventer")
    screenshot(page, artifacts_dir, "ufo-approved-tender.png")
    assert_no_csp_violations(console_errors)
