"""Nothing internal leaks: every public page, feed and export, searched for marker strings.

The fixture writes a unique marker into every internal field a public case touches
(internal notes, opt-out justification and reason, per-region values, decision
deadline, savings, UFO scores and candidate areas, history users and reasons) and
into a case that is not publishable. Then every URL in ``PUBLIC_URLS`` is rendered,
in Danish and in English, and no marker may appear in any of them.

Other public features add their URLs to ``PUBLIC_URLS`` (one builder per URL, taking
the fixture's dict) so the same fixture guards them too.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tenders.models import (
    CandidateArea,
    OptOutReason,
    Participation,
    SavingsMethod,
    SavingsRecord,
    Score,
    ScoreSheet,
    ScoringCriterion,
)
from tests.public.conftest import build_plan

pytestmark = pytest.mark.django_db

MARKERS = {
    "internal_notes": "LEAK-NOTES-7f3a2c",
    "justification": "LEAK-JUSTIFICATION-91c2e4",
    "opt_out_reason": "LEAK-REASON-5d8e1b",
    "unpublished_title": "LEAK-UNPUBLISHED-TITLE-3b7f90",
    "unpublished_description": "LEAK-UNPUBLISHED-DESCRIPTION-a1e6d2",
    "candidate_title": "LEAK-CANDIDATE-TITLE-c40f17",
    "candidate_description": "LEAK-CANDIDATE-DESCRIPTION-0e93ab",
    "candidate_decision": "LEAK-CANDIDATE-DECISION-77d1c5",
    "score_comment": "LEAK-SCORE-COMMENT-b2f8e0",
    "other_body_comment": "LEAK-OTHER-BODY-6a2d4c",
    "criterion": "LEAK-CRITERION-e5c3a9",
    "savings_method": "LEAK-SAVINGS-METHOD-8f0b2d",
    "history_user": "leak-history-user-4c1e",
    "history_reason": "LEAK-HISTORY-REASON-d93f6a",
    "decided_by": "leak-decider-2a7b",
}
# Amounts and dates are searched for in every way the site writes them.
REGION_VALUE = Decimal("987654321.55")
SAVINGS_BASELINE = Decimal("876543219.00")
SAVINGS_NEW = Decimal("765432198.00")
DECISION_DEADLINE = dt.date(2031, 7, 13)
EXISTING_CONTRACT_END = dt.date(2029, 3, 17)
OPTION_EXPECTED_JOIN = dt.date(2030, 6, 19)


def _amount_forms(value: Decimal) -> list[str]:
    whole = int(value)
    return [str(whole), f"{whole:,}", f"{whole:,}".replace(",", "."), f"{whole:_}"]


def _date_forms(day: dt.date) -> list[str]:
    return [day.isoformat(), day.strftime("%d-%m-%Y"), day.strftime("%Y%m%d")]


def all_markers() -> list[str]:
    found = list(MARKERS.values())
    for value in (REGION_VALUE, SAVINGS_BASELINE, SAVINGS_NEW):
        found += _amount_forms(value)
    for day in (DECISION_DEADLINE, EXISTING_CONTRACT_END, OPTION_EXPECTED_JOIN):
        found += _date_forms(day)
    return found


@pytest.fixture
def leaky_plan(regions) -> dict:
    """The public plan with every internal field holding a marker."""
    user_model = get_user_model()
    history_user = user_model.objects.create(username=MARKERS["history_user"])
    decider = user_model.objects.create(username=MARKERS["decided_by"])
    plan = build_plan(regions)
    reason = OptOutReason.objects.create(code="leak", label_da=MARKERS["opt_out_reason"])
    for tender in plan.values():
        tender.internal_notes = MARKERS["internal_notes"]
        tender.decision_deadline = DECISION_DEADLINE
        tender._history_user = history_user
        tender._change_reason = MARKERS["history_reason"]
        tender.save()
        for participation in tender.participations.all():
            participation.estimated_annual_value = REGION_VALUE
            participation.decided_by = decider
            participation._history_user = history_user
            participation._change_reason = MARKERS["history_reason"]
            if participation.status == Participation.Status.OPTED_OUT:
                participation.justification = MARKERS["justification"]
                participation.opt_out_reason = reason
                participation.existing_contract_end = EXISTING_CONTRACT_END
            if participation.status == Participation.Status.OPTION:
                participation.option_expected_join = OPTION_EXPECTED_JOIN
            participation.save()
    internal = plan["internal"]
    internal.title = MARKERS["unpublished_title"]
    internal.description = MARKERS["unpublished_description"]
    internal.save()
    candidate = CandidateArea.objects.create(
        title=MARKERS["candidate_title"],
        description=MARKERS["candidate_description"],
        decision_reason=MARKERS["candidate_decision"],
        category=plan["sutures"].category,
        plan_year=2026,
        tender=plan["sutures"],
        status=CandidateArea.Status.APPROVED,
    )
    criterion = ScoringCriterion.objects.create(code="leak", label_da=MARKERS["criterion"])
    sheet = ScoreSheet.objects.create(
        candidate=candidate, scorer=decider, other_body_comment=MARKERS["other_body_comment"]
    )
    Score.objects.create(
        sheet=sheet, criterion=criterion, value=4, comment=MARKERS["score_comment"]
    )
    method = SavingsMethod.objects.create(code="leak", label_da=MARKERS["savings_method"])
    SavingsRecord.objects.create(
        tender=plan["beds"],
        region=regions["RSD"],
        baseline_annual_cost=SAVINGS_BASELINE,
        new_annual_cost=SAVINGS_NEW,
        method=method,
    )
    return {"plan": plan, "regions": regions}


def _detail(key: str) -> Callable[[dict], str]:
    return lambda data: reverse("public:detail", args=[data["plan"][key].reference])


def _region(code: str) -> Callable[[dict], str]:
    return lambda data: reverse("public:region", args=[code])


def _with_tabs(name: str) -> list[Callable[[dict], str]]:
    return [
        lambda data, tab=tab: f"{reverse(name)}?tab={tab}"
        for tab in ("upcoming", "current", "completed")
    ]


# Every public URL: add yours here (a builder taking the fixture's dict).
PUBLIC_URLS: list[Callable[[dict], str]] = [
    lambda data: reverse("public:index"),
    *_with_tabs("public:index"),
    lambda data: reverse("public:index") + "?q=LEAK",
    lambda data: reverse("public:index") + "?q=dialyse",
    *_with_tabs("public:timeline"),
    *[_detail(key) for key in ("sutures", "office", "gloves", "beds", "cancelled", "ski")],
    *[_region(code) for code in ("RH", "RSJ", "RSD", "RM", "RN")],
    *[
        lambda data, code=code, tab=tab: f"{reverse('public:region', args=[code])}?tab={tab}"
        for code in ("RSD", "RN")
        for tab in ("current", "completed")
    ],
    lambda data: reverse("public:feed"),
    *_with_tabs("public:feed"),
    lambda data: reverse("public:calendar"),
    lambda data: reverse("public:csv"),
    *_with_tabs("public:csv"),
    lambda data: reverse("public:xlsx"),
    *_with_tabs("public:xlsx"),
    lambda data: reverse("public:ocds"),
    *_with_tabs("public:ocds"),
]


def readable_text(content: bytes) -> str:
    """The response as text; an xlsx (zip) is unpacked and every member read."""
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
    return content.decode("utf-8", "replace")


@pytest.mark.parametrize("language", ["da", "en"])
def test_no_internal_marker_on_any_public_url(leaky_plan, language):
    client = Client()
    client.post(reverse("set_language"), {"language": language})
    markers = all_markers()
    leaks = []
    for build in PUBLIC_URLS:
        url = build(leaky_plan)
        response = client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        text = readable_text(response.content)
        leaks += [f"{url}: {marker}" for marker in markers if marker in text]

    assert not leaks, "internal data on public URLs:\n" + "\n".join(leaks)


def test_the_unpublished_case_has_no_public_url(leaky_plan):
    reference = leaky_plan["plan"]["internal"].reference

    assert Client().get(reverse("public:detail", args=[reference])).status_code == 404


def test_the_markers_are_really_in_the_database(leaky_plan):
    """Guard the guard: a renamed field would make the leak test pass for nothing."""
    sutures = leaky_plan["plan"]["sutures"]
    sutures.refresh_from_db()
    opted_out = sutures.participations.get(status=Participation.Status.OPTED_OUT)

    assert sutures.internal_notes == MARKERS["internal_notes"]
    assert opted_out.justification == MARKERS["justification"]
    assert opted_out.estimated_annual_value == REGION_VALUE
    assert sutures.history.filter(history_change_reason=MARKERS["history_reason"]).exists()
    assert sutures.candidate.score_sheets.get().scores.get().comment == MARKERS["score_comment"]
