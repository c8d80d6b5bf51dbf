"""The spend pages through their URLs: totals, drill-down, suppliers, months, off-contract,
small invoices, unmapped lines, exports, the rule pages and the re-map button."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from rfi import permissions
from rfi.models import Membership
from rfi.tasks import BrokerUnavailable
from spend import matching
from spend.models import ColumnMapping, ExclusionRule, LedgerLine, MappingRule
from spend.views import rules as rule_views
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.spend import spend_data as data

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def ledger(regions):
    """RM's 2025 ledger: 23,500 addressable, 7,000 excluded; noise that must not count."""
    data.tree()
    rm, rsd = regions["RM"], regions["RSD"]
    ExclusionRule.objects.create(
        kind=ExclusionRule.Kind.ACCOUNT_RANGE, account_from="9000", account_to="9999", reason="Løn"
    )
    data.contract(rm, "11111111", D(2025, 1, 1), D(2025, 12, 31), code="33140000")
    batch = data.batch(rm)
    data.lines(
        batch,
        {"category_code": "33141110", "amount": 1000, "invoice_no": "F1", "account": "4000"},
        {"category_code": "30190000", "amount": 2000, "invoice_no": "F2", "account": "4000"},
        {
            "category_code": "",
            "amount": 500,
            "supplier_id": "22222222",
            "supplier_name": "=Bandager ApS",
            "invoice_no": "F3",
            "account": "4100",
            "cost_centre": "K17",
        },
        {
            "category_code": "85100000",
            "amount": 20000,
            "supplier_id": "33333333",
            "supplier_name": "Klinik Øst A/S",
            "invoice_no": "F4",
            "posting_date": D(2025, 4, 10),
            "account": "4000",
        },
        {"category_code": "", "amount": 7000, "account": "9500", "invoice_no": "L1"},
    )

    matching.after_lines_loaded(batch)
    # Noise: a replaced batch, another year, another region.
    data.lines(data.batch(rm, current=False), {"amount": 99999, "category_code": "33141110"})
    data.lines(batch, {"amount": 123, "posting_date": D(2024, 6, 1), "category_code": "33141110"})
    data.lines(data.batch(rsd), {"amount": 55555, "category_code": "85100000"})
    return batch


def _get(user, name, **params):
    response = client_for(user).get(reverse(name), params)
    return response


def test_overview_shows_addressable_spend_and_the_unclassified_share(ledger, officer_rm):
    response = _get(officer_rm, "spend:index", year=2025)

    assert response.status_code == 200
    totals = response.context["totals"]
    assert totals["total"] == Decimal("23500.00")
    assert totals["unclassified"] == Decimal("500.00")
    assert response.context["excluded"] == Decimal("7000.00")
    content = response.content.decode()
    assert "23.500 kr." in content
    assert "2,1 %" in content  # 500 of 23,500 unclassified


def test_category_tree_drills_down_from_division_to_group(ledger, officer_rm):
    top = _get(officer_rm, "spend:index", region="RM", year=2025)
    rows = {row["code"]: row["total"] for row in top.context["table"].rows}
    assert rows == {
        "85000000": Decimal("20000.00"),
        "30000000": Decimal("2000.00"),
        "33000000": Decimal("1000.00"),
        "": Decimal("500.00"),
    }

    drilled = _get(officer_rm, "spend:index", region="RM", year=2025, prefix="33")

    assert [(r["code"], r["total"]) for r in drilled.context["table"].rows] == [
        ("33100000", Decimal("1000.00"))
    ]
    assert "prefix=331" in drilled.content.decode()


def test_suppliers_page_ranks_suppliers_and_shows_the_pareto_table(ledger, officer_rm):
    response = _get(officer_rm, "spend:suppliers", region="RM", year=2025)

    rows = response.context["table"].rows
    assert [r["supplier_id"] for r in rows] == ["33333333", "11111111", "22222222"]
    pareto = response.context["pareto"]
    assert pareto.suppliers == 3
    # The top supplier (the top third, at least one) carries 20,000 of 23,500.
    assert dict(pareto.by_supplier_share)[10] == Decimal("85.1")
    assert "<svg" in response.content.decode()


def test_months_page_sums_each_month(ledger, officer_rm):
    response = _get(officer_rm, "spend:months", region="RM", year=2025)

    months = {row["month"]: row["total"] for row in response.context["table"].rows}
    assert months == {3: Decimal("3500.00"), 4: Decimal("20000.00")}


def test_off_contract_page_ranks_leads_and_offers_a_candidate_area(ledger, officer_rm):
    response = _get(officer_rm, "spend:off_contract", region="RM", year=2025, depth=2)

    suppliers = {r["supplier_id"]: r["total"] for r in response.context["supplier_table"].rows}
    assert suppliers == {"33333333": Decimal("20000.00"), "22222222": Decimal("500.00")}
    health = response.context["category_table"].rows[0]
    assert health["code"] == "85000000"
    url = urlparse(health["candidate_url"])
    assert url.path == reverse("tenders:candidate_create")
    assert parse_qs(url.query) == {"category": ["85000000"]}
    assert "Foreslå som kandidatområde" in response.content.decode()


def test_off_contract_by_category_loyalty_counts_the_laptop_too(ledger, officer_rm):
    # The supplier has a contract, but not for office equipment.
    response = _get(
        officer_rm, "spend:off_contract", region="RM", year=2025, basis="category", depth=2
    )

    categories = {r["code"]: r["total"] for r in response.context["category_table"].rows}
    assert categories["30000000"] == Decimal("2000.00")
    assert "33000000" not in categories


def test_small_invoices_counts_transactions_under_10000(ledger, officer_rm):
    response = _get(officer_rm, "spend:small_invoices", region="RM", year=2025)

    figures = response.context["figures"]
    assert (figures["small"], figures["positive"]) == (3, 4)
    assert figures["small_share"] == Decimal("75.0")
    assert figures["small_spend"] == Decimal("3500.00")


def test_credit_notes_are_netted_within_a_transaction(regions, officer_rm):
    data.tree()
    batch = data.batch(regions["RM"])
    data.lines(
        batch,
        {"amount": 15000, "invoice_no": "F9", "category_code": "33141110"},
        {"amount": -6000, "invoice_no": "F9", "category_code": "33141110"},
    )

    figures = _get(officer_rm, "spend:small_invoices", region="RM", year=2025).context["figures"]

    assert (figures["small"], figures["positive"], figures["transactions"]) == (1, 1, 1)


def test_unmapped_page_groups_lines_and_links_a_prefilled_rule(ledger, officer_rm):
    response = _get(officer_rm, "spend:unmapped", region="RM", year=2025)

    (row,) = response.context["table"].rows
    assert (row["account"], row["cost_centre"], row["supplier_id"], row["total"]) == (
        "4100",
        "K17",
        "22222222",
        Decimal("500.00"),
    )
    label, link = row["rule_links"][1]
    assert parse_qs(urlparse(link).query) == {
        "region": ["RM"],
        "kind": ["account_cost_centre"],
        "account_from": ["4100"],
        "cost_centre": ["K17"],
    }

    form = client_for(officer_rm).get(link).context["form"]
    assert form["account_from"].value() == "4100"
    assert form["cost_centre"].value() == "K17"
    assert form["kind"].value() == "account_cost_centre"


def test_export_writes_the_table_and_keeps_formulas_as_text(ledger, officer_rm):
    response = _get(officer_rm, "spend:unmapped", region="RM", year=2025)
    export_url = response.context["table"].export_url

    export = client_for(officer_rm).get(export_url)

    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header_index = next(i for i, r in enumerate(rows) if r[0] == "Region")
    header, first = rows[header_index], rows[header_index + 1]
    assert header[:5] == ("Region", "Konto", "Omkostningssted", "Leverandør-id", "Leverandør")
    assert first[4] == "=Bandager ApS"
    name_cell = sheet.cell(row=header_index + 2, column=5)
    assert name_cell.data_type == "s"
    assert first[5] == 500


@pytest.mark.parametrize(
    "table",
    [
        "categories",
        "suppliers",
        "pareto",
        "months",
        "off-contract-suppliers",
        "off-contract-categories",
        "small-invoices",
        "unmapped",
    ],
)
def test_every_table_exports(ledger, officer_rm, table):
    response = client_for(officer_rm).get(
        reverse("spend:export", kwargs={"table": table}), {"region": "RM", "year": 2025}
    )

    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).active.max_row > 1


def test_unknown_export_table_is_404(ledger, officer_rm):
    response = client_for(officer_rm).get(reverse("spend:export", kwargs={"table": "x"}))
    assert response.status_code == 404


# Rights ------------------------------------------------------------------------------------------


def test_an_officer_of_rsd_cannot_see_rms_spend(ledger, officer_rsd):
    for name in ("spend:index", "spend:suppliers", "spend:unmapped", "spend:rules"):
        assert _get(officer_rsd, name, region="RM").status_code == 403
    export = reverse("spend:export", kwargs={"table": "suppliers"})
    assert client_for(officer_rsd).get(export, {"region": "RM"}).status_code == 403


def test_an_officer_sees_their_own_region_by_default(ledger, officer_rsd):
    response = _get(officer_rsd, "spend:index", year=2025)

    assert response.context["scope"].region.code == "RSD"
    assert response.context["totals"]["total"] == Decimal("55555.00")
    assert [value for value, _label in response.context["scope"].choices] == ["RSD"]


@pytest.mark.parametrize("persona", ["officer_rm", "officer_rsd"])
def test_officers_do_not_get_the_all_regions_view(ledger, persona, request):
    user = request.getfixturevalue(persona)
    assert _get(user, "spend:index", region="all").status_code == 403


@pytest.mark.parametrize("persona", ["chief", "ufo_member", "secretariat"])
def test_chiefs_ufo_and_secretariat_see_all_regions_added_up(ledger, persona, request):
    user = request.getfixturevalue(persona)

    response = _get(user, "spend:index", region="all", year=2025)

    assert response.status_code == 200
    assert response.context["totals"]["total"] == Decimal("23500.00") + Decimal("55555.00")


def test_a_chief_sees_their_own_region_but_not_anothers(ledger, chief):
    assert _get(chief, "spend:index", region="RM").status_code == 200
    assert _get(chief, "spend:index", region="RSD").status_code == 403


def test_an_unknown_region_is_404(ledger, officer_rm):
    assert _get(officer_rm, "spend:index", region="XX").status_code == 404


def test_the_candidate_button_is_only_for_proposers(ledger, chief):
    response = _get(chief, "spend:off_contract", region="RM", year=2025, depth=2)

    assert all(not row["candidate_url"] for row in response.context["category_table"].rows)


# Rules and the re-map button ------------------------------------------------------------------


def test_an_officer_writes_a_rule_and_the_remap_button_applies_it(ledger, officer_rm):
    client = client_for(officer_rm)
    line = LedgerLine.objects.get(account="4100")
    assert line.category_id is None

    # when the officer writes the missing rule
    response = client.post(
        reverse("spend:mapping_rule_create"),
        {
            "region": ledger.region.pk,
            "priority": 10,
            "kind": "account_cost_centre",
            "account_from": "4100",
            "cost_centre": "K17",
            "category": "33141110-0",
            "active": "on",
        },
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.category_id is None  # a rule alone does not touch loaded lines

    # and presses "Recompute mapping"
    response = client.post(reverse("spend:remap"), {"region": "RM"}, follow=True)

    # then
    line.refresh_from_db()
    assert line.category.code == "33141110"
    assert line.category_matched is False  # another supplier than the contract's
    assert "Kortlægningen er genberegnet" in response.content.decode()
    unmapped = _get(officer_rm, "spend:unmapped", region="RM", year=2025)
    assert unmapped.context["table"].rows == []


def test_an_officer_cannot_write_common_rules_or_another_regions(ledger, officer_rm, regions):
    client = client_for(officer_rm)
    base = {"priority": 10, "kind": "supplier", "supplier_id": "22222222", "category": "33141110"}

    common = client.post(reverse("spend:mapping_rule_create"), {**base, "region": ""})
    other = client.post(reverse("spend:mapping_rule_create"), {**base, "region": regions["RSD"].pk})

    assert common.status_code == 400
    assert other.status_code == 400
    assert not MappingRule.objects.exists()


def test_the_secretariat_writes_a_common_rule(ledger, secretariat):
    response = client_for(secretariat).post(
        reverse("spend:mapping_rule_create"),
        {
            "region": "",
            "priority": 5,
            "kind": "supplier",
            "supplier_id": "22222222",
            "category": "33141110",
            "active": "on",
        },
    )

    assert response.status_code == 302
    rule = MappingRule.objects.get()
    assert rule.region is None
    assert (rule.account_from, rule.cost_centre) == ("", "")


def test_rule_form_names_the_missing_field(ledger, officer_rm):
    response = client_for(officer_rm).post(
        reverse("spend:mapping_rule_create"),
        {
            "region": ledger.region.pk,
            "priority": 1,
            "kind": "account_range",
            "category": "33141110",
        },
    )

    assert response.status_code == 400
    assert "account_from" in response.context["form"].errors


def test_one_submit_of_a_rule_shows_the_code_and_the_kinds_errors_together(ledger, officer_rm):
    response = client_for(officer_rm).post(
        reverse("spend:mapping_rule_create"),
        {
            "region": ledger.region.pk,
            "priority": 1,
            "kind": "account_cost_centre",
            "account_from": "4200",
            "account_to": "4100",
            "category": "1234",
        },
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"category", "account_to", "cost_centre"} <= set(errors)
    assert not MappingRule.objects.exists()


def test_an_officer_cannot_edit_or_delete_another_regions_rule(ledger, officer_rsd, regions):
    rule = MappingRule.objects.create(
        region=regions["RM"], kind="supplier", supplier_id="1", category=data.category("33000000")
    )
    client = client_for(officer_rsd)

    edit = client.get(reverse("spend:mapping_rule_edit", kwargs={"pk": rule.pk}))
    delete = client.post(reverse("spend:mapping_rule_delete", kwargs={"pk": rule.pk}))

    assert (edit.status_code, delete.status_code) == (403, 403)
    assert MappingRule.objects.filter(pk=rule.pk).exists()


def test_an_officer_deletes_their_regions_exclusion_rule(ledger, officer_rm, regions):
    rule = ExclusionRule.objects.create(
        region=regions["RM"], kind="category", category_prefix="336", reason="Medicin"
    )
    client = client_for(officer_rm)

    confirm = client.get(reverse("spend:exclusion_rule_delete", kwargs={"pk": rule.pk}))
    done = client.post(reverse("spend:exclusion_rule_delete", kwargs={"pk": rule.pk}))

    assert confirm.status_code == 200
    assert done.status_code == 302
    assert not ExclusionRule.objects.filter(pk=rule.pk).exists()


def test_only_the_secretariat_edits_a_common_exclusion_rule(ledger, officer_rm, secretariat):
    rule = ExclusionRule.objects.get()  # the fixture's common salary rule
    url = reverse("spend:exclusion_rule_edit", kwargs={"pk": rule.pk})

    assert client_for(officer_rm).get(url).status_code == 403
    response = client_for(secretariat).post(
        url,
        {
            "region": "",
            "kind": "account_range",
            "account_from": "9000",
            "account_to": "9499",
            "reason": "Løn og pension",
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.account_to, rule.reason) == ("9499", "Løn og pension")


def test_an_officer_saves_a_column_mapping_for_their_region(ledger, officer_rm, regions):
    response = client_for(officer_rm).post(
        reverse("spend:column_mapping_create"),
        {"region": regions["RM"].pk, "source_header": " Kreditor nr. ", "canonical": "supplier_id"},
    )

    assert response.status_code == 302
    mapping = ColumnMapping.objects.get()
    assert (mapping.region.code, mapping.source_header) == ("RM", "Kreditor nr.")
    rules_page = _get(officer_rm, "spend:rules", region="RM")
    assert "Kreditor nr." in rules_page.content.decode()


def test_the_remap_button_is_refused_for_another_region(ledger, officer_rsd):
    response = client_for(officer_rsd).post(reverse("spend:remap"), {"region": "RM"})
    assert response.status_code == 403


def test_a_chief_may_not_remap(ledger, chief):
    response = client_for(chief).post(reverse("spend:remap"), {"region": "RM"})
    assert response.status_code == 403


def test_the_secretariat_remaps_every_region(ledger, secretariat, regions):
    MappingRule.objects.create(
        kind="supplier", supplier_id="22222222", category=data.category("33600000")
    )

    response = client_for(secretariat).post(reverse("spend:remap"), {"region": "all"})

    assert response.status_code == 302
    assert LedgerLine.objects.get(account="4100").category.code == "33600000"


def test_a_dead_broker_is_reported_not_hidden(ledger, officer_rm, monkeypatch):
    def down(task, *args):
        raise BrokerUnavailable("down")

    monkeypatch.setattr(rule_views, "enqueue", down)

    response = client_for(officer_rm).post(reverse("spend:remap"), {"region": "RM"}, follow=True)

    assert "Opgavekøen kan ikke nås" in response.content.decode()


def test_a_role_in_two_regions_lists_both(ledger, officer_rm, regions):
    MembershipFactory(user=officer_rm, region=regions["RSD"], role=Membership.Role.CHIEF)

    response = _get(officer_rm, "spend:index")

    assert {v for v, _l in response.context["scope"].choices} == {"all", "RM", "RSD"}


# The predicates behind the pages and the API ---------------------------------------------------

REGION_RIGHTS = {
    # persona: (regions whose spend they see, regions whose rules they write; None = common)
    "officer_rm": ({"RM"}, {"RM"}),
    "officer_rsd": ({"RSD"}, {"RSD"}),
    "ufo_member": ({"RM"}, set()),
    "chief": ({"RM"}, set()),
    "secretariat": ({"RM", "RSD", "RH", "RSJ", "RN"}, {"RM", "RSD", "RH", "RSJ", "RN", None}),
    "outsider": (set(), set()),
    "anonymous": (set(), set()),
}


@pytest.mark.parametrize("persona", list(REGION_RIGHTS))
def test_region_rights_matrix(persona, request, regions):
    user = request.getfixturevalue(persona)
    sees, writes = REGION_RIGHTS[persona]

    seen = {
        code for code, region in regions.items() if permissions.can_view_region_spend(user, region)
    }
    written = {
        code for code, region in regions.items() if permissions.can_edit_spend_rules(user, region)
    }
    if permissions.can_edit_spend_rules(user, None):
        written.add(None)

    assert seen == sees
    assert written == writes
    assert {permissions.can_remap_spend(user, r) for r in regions.values()} <= {True, False}
    assert permissions.can_remap_spend(user, regions["RM"]) is ("RM" in writes)


@pytest.mark.parametrize(
    "name",
    [
        "admin:spend_mappingrule_changelist",
        "admin:spend_exclusionrule_changelist",
        "admin:spend_columnmapping_changelist",
        "admin:spend_importbatch_changelist",
    ],
)
def test_the_secretariat_sees_rules_and_batches_in_the_admin(ledger, secretariat, name):
    response = client_for(secretariat).get(reverse(name))

    assert response.status_code == 200


def test_import_batches_are_a_read_only_record_in_the_admin(ledger, secretariat):
    url = reverse("admin:spend_importbatch_change", kwargs={"object_id": ledger.pk})
    response = client_for(secretariat).post(url, {"status": "failed"})

    ledger.refresh_from_db()
    assert response.status_code in {200, 403}
    assert ledger.status == "done"
