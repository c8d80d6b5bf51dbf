"""/historik/: every domain change, filterable by region, user, kind and date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from rfi.selectors import audit_entries, audit_kinds
from spend.models import ImportBatch, MappingRule
from tenders import services
from tenders.models import Participation, Score, ScoreSheet
from tests.conftest import client_for
from tests.tenders.test_api import (  # noqa: F401  (fixtures)
    JUSTIFICATION,
    candidate,
    catheters,
    make_tender,
    plan_reference,
    sheet_body,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def changes(plan_reference, catheters, regions, officer_rm, officer_rsd, ufo_member):  # noqa: F811
    """A case led by RM, RSD's opt-out, a UFO score sheet scored twice, a rule, an upload."""
    tender = make_tender(officer_rm, catheters, regions["RM"], title="Katetre til alle")
    opted = tender.participations.get(region=regions["RSD"])
    reason = services.OptOutReason.objects.filter(asks_contract_end=False).first()
    services.participation_decide(
        participation=opted,
        actor=officer_rsd,
        status=Participation.Status.OPTED_OUT,
        reason=reason,
        justification=JUSTIFICATION,
    )
    area = services.candidate_create(
        actor=officer_rm, title="Sprøjter", category=catheters, plan_year=2027
    )
    criteria = list(services.ScoringCriterion.objects.filter(active=True))
    for value in (4, 2):
        services.score_sheet_submit(
            candidate=area,
            scorer=ufo_member,
            scores={c.code: (value, f"Vurdering {value}") for c in criteria},
        )
    rule = MappingRule(
        region=regions["RSD"],
        kind=MappingRule.Kind.SUPPLIER,
        supplier_id="12345678",
        category=catheters,
    )
    rule._history_user = officer_rsd
    rule.save()
    ImportBatch.objects.create(
        region=regions["RM"],
        source=ImportBatch.Source.values[0],
        uploaded_by=officer_rm,
        file_name="kreditorer-2026-11.csv",
        status=ImportBatch.Status.values[0],
    )
    return {"tender": tender, "area": area, "criteria": criteria}


def rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row for row in body.split("<tr>")[1:]]


def test_the_trail_holds_every_kind_of_domain_change(changes, secretariat):
    client = client_for(secretariat)

    def page(user: str) -> str:
        html = client.get(reverse("audit_log"), {"user": user}).content.decode()
        return "\n".join(rows(html))

    officer_rm, officer_rsd, ufo = page("officer_rm"), page("officer_rsd"), page("ufo_rm")
    assert "Katetre til alle" in officer_rm and "kreditorer-2026-11.csv" in officer_rm
    assert "Sprøjter" in officer_rm  # the candidate area
    assert "Vurdering 2" not in ufo and "= 2" in ufo and "= 4" in ufo  # both scorings
    assert "RSD · Fravalgt" in officer_rsd and "begrundelse" in officer_rsd  # changed fields
    kinds = {kind.key for kind in audit_kinds()}
    assert {
        "tenders.tendercase",
        "tenders.participation",
        "tenders.scoresheet",
        "tenders.score",
        "tenders.candidatearea",
        "suppliers.contract",
        "spend.mappingrule",
        "spend.exclusionrule",
        "spend.importbatch",
        "rfi.region",
        "rfi.membership",
    } <= kinds
    recorded = {entry.kind.key for entry in audit_entries(limit=500)}
    assert {
        "tenders.tendercase",
        "tenders.participation",
        "tenders.candidatearea",
        "tenders.scoresheet",
        "tenders.score",
        "spend.mappingrule",
        "spend.importbatch",
    } <= recorded


def test_a_participation_change_names_the_changed_fields(changes):
    [decision] = [
        entry
        for entry in audit_entries(kind="tenders.participation", limit=500)
        if entry.user and entry.user.username == "officer_rsd"
    ]

    assert decision.action in {"ændret", "changed"}
    assert "RSD" in decision.record or "Syddanmark" in decision.record
    assert len(decision.changed) >= 2  # status, reason, justification, decided by/at


def test_filters_by_region_user_kind_and_date(changes, secretariat, regions):
    client = client_for(secretariat)
    url = reverse("audit_log")

    by_region = audit_entries(region=regions["RSD"], limit=500)
    assert by_region and all(
        entry.kind.key
        in {"tenders.participation", "spend.mappingrule", "rfi.region", "rfi.membership"}
        for entry in by_region
    )
    assert not any("Katetre til alle" == entry.record for entry in by_region)  # RM's case
    by_user = audit_entries(user="ufo_rm", limit=500)
    assert by_user and {entry.kind.key for entry in by_user} == {
        "tenders.scoresheet",
        "tenders.score",
    }  # (the fixture made the membership without a user on the history)
    assert {e.kind.key for e in audit_entries(kind="spend.importbatch")} == {"spend.importbatch"}
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert audit_entries(date_from=tomorrow) == []

    page = client.get(url, {"region": regions["RSD"].pk, "kind": "tenders.participation"})
    assert page.status_code == 200
    participations = rows(page.content.decode())
    assert participations and all("· RSD ·" in row for row in participations)
    bad = client.get(url, {"date_from": "2026-12-01", "date_to": "2026-11-01"})
    assert bad.status_code == 200
    assert "Slutdatoen ligger før startdatoen." in bad.content.decode()


def test_resubmitted_scores_keep_their_history(changes, ufo_member):
    sheet = ScoreSheet.objects.get(scorer=ufo_member)
    criterion = changes["criteria"][0]
    score = Score.objects.get(sheet=sheet, criterion=criterion)

    values = list(score.history.order_by("history_date").values_list("value", flat=True))

    assert score.value == 2
    assert values == [4, 2]
    assert score.history.latest().history_user == ufo_member


def test_only_the_secretariat_reads_the_trail(changes, officer_rm):
    assert client_for(officer_rm).get(reverse("audit_log")).status_code in {403, 404}
