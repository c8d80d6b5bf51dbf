"""THE permission matrix: every named route × every persona, and the rules behind it.

Adding a route without classifying it here fails ``test_every_route_is_classified``
with the route's name, so nobody ships a page whose access was never decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from kpi.models import KpiRun, KpiSnapshot, Strategy, StrategyActivity
from rfi import permissions
from rfi.models import Category, Membership, PartnerBody, Region
from spend.models import ColumnMapping, ExclusionRule, ImportBatch, MappingRule
from suppliers.models import Contract, ContractDocument, ContractExtension, Subscription, Supplier
from suppliers.public.alerts import confirm_token, manage_token
from tenders.models import CandidateArea, Participation, TenderCase
from tests.conftest import MEMBER_PERSONAS, PERSONAS, client_for

pytestmark = pytest.mark.django_db


class Access(Enum):
    PUBLIC = "everyone, no account needed"
    SIGNED_IN = "every signed-in user, with or without a role"
    MEMBERS = "holders of a role in an active region, and the secretariat"
    SECRETARIAT = "the secretariat (staff) only"
    OPERATOR = (
        "the secretariat, or Prometheus with the METRICS_TOKEN bearer token; everyone else, "
        "anonymous included, gets 404"
    )
    API = "REST API for every signed-in user"
    GUESTS = "the login form: signed-in users are sent home"
    POST_ONLY = "no GET: the route only takes POST"
    REDIRECT = "GET only redirects, changing nothing"
    ADMIN = "Django admin: the secretariat; others go to the admin login"
    OFFICERS = "procurement officers of any region, and the secretariat"
    RM_OFFICERS = "officers of the region concerned (RM in the fixtures), and the secretariat"
    PROPOSERS = "officers and UFO members of any region, and the secretariat"
    UFO = "UFO members only (the secretariat does not score)"
    CHIEFS = "procurement chiefs of any region, and the secretariat"
    API_MEMBERS = "REST API for members: a signed-in user without a role gets 403"
    API_POST_ONLY = "REST API action taking only POST: members get 405 on GET, others 401/403"
    RM_CONTRACT_READERS = (
        "RM's officers and chief, the UFO group and the secretariat; another region's "
        "officer gets 404 (the contract is not in what they see)"
    )
    RM_CONTRACT_EDITORS = (
        "RM's officers and the secretariat; another region's officer gets 404, RM's chief "
        "and the UFO group 403"
    )
    API_RM_CONTRACT_READERS = "REST API, readers of RM's contracts as RM_CONTRACT_READERS"
    RM_SPEND_READERS = (
        "whoever holds a role in RM (officer, UFO member, chief) and the secretariat; another "
        "region's officer gets 404 (ledger uploads: the batch is not in what they see)"
    )
    API_RM_SPEND_READERS = "REST API, readers of RM's ledger uploads as RM_SPEND_READERS"
    KPI_COLLABORATION = "procurement chiefs and UFO members of any region, and the secretariat"
    API_RM_KPI_READERS = (
        "REST API, readers of RM's own KPI figures: RM's people, the chiefs, the UFO group and "
        "the secretariat; another region's officer gets 404"
    )


@dataclass(frozen=True)
class Route:
    access: Access
    # Builds the URL kwargs from the fixtures (regions, category_33).
    kwargs: Callable[[dict], dict] = field(default=lambda data: {})
    # For a whole namespace: the names that stand for it in the GET checks.
    samples: tuple[str, ...] = ()


def _region_pk(data: dict) -> dict:
    return {"pk": data["regions"]["RM"].pk}


def _partner_body_pk(data: dict) -> dict:
    return {"pk": PartnerBody.objects.get(code="AMGROS").pk}


def _rm_kpi_snapshot_pk(data: dict) -> dict:
    """A current per-region KPI figure of RM (kpi.api)."""
    snapshot = KpiSnapshot.objects.create(
        run=KpiRun.objects.create(status=KpiRun.Status.DONE),
        key="compliance",
        region=data["regions"]["RM"],
        period_kind="year",
        period_start=dt.date(2025, 1, 1),
        period_label="2025",
        value="0.5",
        computed_at=timezone.now(),
    )
    return {"pk": snapshot.pk}


def _plan_tender(data: dict):
    """A case led by RM with every region pending (the plan pages' fixture)."""
    tender, created = TenderCase.objects.get_or_create(
        reference="FUP-2026-900",
        defaults={
            "title": "Matrix-sag",
            "category": Category.objects.get(code="33000000"),
            "area": TenderCase.Area.MEDICO_ACQUISITIONS,
            "kind": TenderCase.Kind.FRAMEWORK,
            "has_options": True,
            "lead_region": data["regions"]["RM"],
        },
    )
    if created:
        for region in data["regions"].values():
            Participation.objects.create(tender=tender, region=region)
    return tender


def _plan_tender_reference(data: dict) -> dict:
    return {"reference": _plan_tender(data).reference}


def _plan_participation_rm(data: dict) -> dict:
    return {"reference": _plan_tender(data).reference, "region_code": "RM"}


def _ufo_candidate(data: dict):
    """A candidate area being scored, in CPV division 33 (the UFO pages' fixture)."""
    candidate, _ = CandidateArea.objects.get_or_create(
        title="Matrix-kandidat",
        defaults={"category": Category.objects.get(code="33000000"), "plan_year": 2027},
    )
    return candidate


def _ufo_candidate_pk(data: dict) -> dict:
    return {"pk": _ufo_candidate(data).pk}


def _api_participation_rm_pk(data: dict) -> dict:
    return {"pk": _plan_tender(data).participations.get(region__code="RM").pk}


def _rm_contract_pk(data: dict) -> dict:
    """A contract of Region Midtjylland (the registry pages' fixture)."""
    supplier, _ = Supplier.objects.get_or_create(
        identifier="12345678", defaults={"name": "Matrix Medico A/S"}
    )
    contract, _ = Contract.objects.get_or_create(
        region=data["regions"]["RM"],
        title="Matrix-kontrakt",
        defaults={
            "supplier": supplier,
            "category": Category.objects.get(code="33000000"),
            "start_date": dt.date(2025, 1, 1),
            "end_date": dt.date(2027, 12, 31),
        },
    )
    return {"pk": contract.pk}


def _rm_contract_document(data: dict) -> dict:
    """A document of RM's contract, stored in the test media folder."""
    contract = Contract.objects.get(pk=_rm_contract_pk(data)["pk"])
    document = contract.documents.first()
    if document is None:
        document = ContractDocument(contract=contract, name="matrix.pdf", size=9)
        document.file.save("matrix.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
        document.save()
    return {"pk": contract.pk, "document_pk": document.pk}


def _rm_contract_extension_pk(data: dict) -> dict:
    contract = Contract.objects.get(pk=_rm_contract_pk(data)["pk"])
    extension, _ = ContractExtension.objects.get_or_create(
        contract=contract,
        defaults={"extends_to": dt.date(2028, 12, 31), "notice_deadline": dt.date(2027, 6, 30)},
    )
    return {"pk": extension.pk}


def _supplier_identifier(data: dict) -> dict:
    _rm_contract_pk(data)
    return {"identifier": "12345678"}


def _spend_rule(model: str, region_code: str | None, data: dict):
    """A mapping/exclusion rule or column mapping of RM, or a common rule (the spend pages)."""
    region = data["regions"][region_code] if region_code else None
    if model == "mapping":
        rule, _ = MappingRule.objects.get_or_create(
            region=region,
            kind=MappingRule.Kind.SUPPLIER,
            supplier_id="12345678",
            defaults={"category": Category.objects.get(code="33000000")},
        )
    elif model == "exclusion":
        rule, _ = ExclusionRule.objects.get_or_create(
            region=region, kind=ExclusionRule.Kind.CATEGORY, category_prefix="336", reason="Matrix"
        )
    else:
        rule, _ = ColumnMapping.objects.get_or_create(
            region=region, source_header="Matrix", defaults={"canonical": "account"}
        )
    return {"pk": rule.pk}


def _rm_mapping_rule_pk(data: dict) -> dict:
    return _spend_rule("mapping", "RM", data)


def _rm_exclusion_rule_pk(data: dict) -> dict:
    return _spend_rule("exclusion", "RM", data)


def _rm_column_mapping_pk(data: dict) -> dict:
    return _spend_rule("column", "RM", data)


def _common_mapping_rule_pk(data: dict) -> dict:
    return _spend_rule("mapping", None, data)


def _common_exclusion_rule_pk(data: dict) -> dict:
    return _spend_rule("exclusion", None, data)


def _public_tender_reference(data: dict) -> dict:
    """The matrix case, marked publishable: the public portal shows it to everyone."""
    tender = _plan_tender(data)
    if not tender.is_publishable:
        tender.is_publishable = True
        tender.save()
    return {"reference": tender.reference}


def _alert_subscription():
    """A supplier's pending alert (suppliers.public.alerts): its links carry signed tokens."""
    subscription, _ = Subscription.objects.get_or_create(email="matrix@example.org")
    return subscription


def _alert_confirm_token(data: dict) -> dict:
    return {"token": confirm_token(_alert_subscription())}


def _alert_manage_token(data: dict) -> dict:
    return {"token": manage_token(_alert_subscription())}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory):
    # The ledger-upload routes' fixture stores a file: never in the project's media/.
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "matrix-media"


def _rm_import_batch_pk(data: dict) -> dict:
    """A refused ledger upload of RM with its file kept (the upload pages' fixture)."""
    batch = ImportBatch.objects.filter(region=data["regions"]["RM"], file_name="matrix.csv").first()
    if batch is None:
        batch = ImportBatch(
            region=data["regions"]["RM"],
            source=ImportBatch.Source.UPLOAD,
            file_name="matrix.csv",
            sha256="0" * 64,
            size=9,
            status=ImportBatch.Status.FAILED,
            errors=[{"row": 2, "column": "Beløb", "value": "12,34,5", "reason": "Matrix"}],
            error_count=1,
        )
        batch.file.save("matrix.csv", ContentFile(b"a;b\r\n1;2\r\n"), save=False)
        batch.save()
    return {"pk": batch.pk}


ADMIN_NAMESPACE = "admin:*"

ROUTES: dict[str, Route] = {
    "home": Route(Access.PUBLIC),
    "healthz": Route(Access.PUBLIC),
    "favicon": Route(Access.PUBLIC),
    "metrics": Route(Access.OPERATOR),
    "me": Route(Access.SIGNED_IN),
    "api_token_revoke": Route(Access.POST_ONLY, kwargs=lambda data: {"token_key": "all"}),
    "audit_log": Route(Access.SECRETARIAT),
    "categories": Route(Access.SIGNED_IN),
    "login": Route(Access.GUESTS),
    "logout": Route(Access.POST_ONLY),
    "password_change": Route(Access.SIGNED_IN),
    "password_change_done": Route(Access.SIGNED_IN),
    "set_language": Route(Access.REDIRECT),
    "tenders:index": Route(Access.MEMBERS),
    "tenders:create": Route(Access.OFFICERS),
    "tenders:outstanding": Route(Access.MEMBERS),
    "tenders:options": Route(Access.MEMBERS),
    "tenders:status_report": Route(Access.MEMBERS),
    "tenders:region": Route(Access.MEMBERS, kwargs=lambda data: {"code": "RSD"}),
    "tenders:detail": Route(Access.MEMBERS, kwargs=_plan_tender_reference),
    "tenders:edit": Route(Access.RM_OFFICERS, kwargs=_plan_tender_reference),
    "tenders:participation": Route(Access.RM_OFFICERS, kwargs=_plan_participation_rm),
    "tenders:option_exercise": Route(Access.POST_ONLY, kwargs=_plan_participation_rm),
    "tenders:candidates": Route(Access.MEMBERS),
    "tenders:candidate_create": Route(Access.PROPOSERS),
    "tenders:scoring_rubric": Route(Access.SECRETARIAT),
    "tenders:candidate": Route(Access.MEMBERS, kwargs=_ufo_candidate_pk),
    "tenders:candidate_score": Route(Access.UFO, kwargs=_ufo_candidate_pk),
    "tenders:candidate_recommend": Route(Access.POST_ONLY, kwargs=_ufo_candidate_pk),
    "tenders:candidate_decide": Route(Access.CHIEFS, kwargs=_ufo_candidate_pk),
    "tenders:savings": Route(Access.MEMBERS, kwargs=_plan_tender_reference),
    "tenders:savings_overview": Route(Access.MEMBERS),
    "tenders:savings_plan": Route(Access.MEMBERS),
    "tenders:savings_report": Route(Access.MEMBERS, kwargs=lambda data: {"slug": "kind-area"}),
    "tenders:savings_report_export": Route(Access.MEMBERS, kwargs=lambda data: {"slug": "origin"}),
    "tenders:export": Route(Access.MEMBERS),
    "tenders:status_report_export": Route(Access.MEMBERS),
    "tenders:import": Route(Access.SECRETARIAT),
    "suppliers:index": Route(Access.MEMBERS),
    "suppliers:create": Route(Access.OFFICERS),
    "suppliers:pipeline": Route(Access.MEMBERS),
    "suppliers:import": Route(Access.OFFICERS),
    "suppliers:detail": Route(Access.RM_CONTRACT_READERS, kwargs=_rm_contract_pk),
    "suppliers:edit": Route(Access.RM_CONTRACT_EDITORS, kwargs=_rm_contract_pk),
    "suppliers:delete": Route(Access.RM_CONTRACT_EDITORS, kwargs=_rm_contract_pk),
    # Each region's contract after a joint award: the lead records the award; the region's
    # officers sign, set the owner, add and decide extensions and upload documents (POST);
    # documents are read by the contract's readers, never by the public.
    "suppliers:tender_award": Route(Access.RM_OFFICERS, kwargs=_plan_tender_reference),
    "suppliers:sign": Route(Access.POST_ONLY, kwargs=_rm_contract_pk),
    "suppliers:owner": Route(Access.POST_ONLY, kwargs=_rm_contract_pk),
    "suppliers:extension_add": Route(Access.POST_ONLY, kwargs=_rm_contract_pk),
    "suppliers:extension_decide": Route(
        Access.POST_ONLY, kwargs=lambda data: {**_rm_contract_pk(data), "extension_pk": 1}
    ),
    "suppliers:document_upload": Route(Access.POST_ONLY, kwargs=_rm_contract_pk),
    "suppliers:document_download": Route(Access.RM_CONTRACT_READERS, kwargs=_rm_contract_document),
    "spend:index": Route(Access.MEMBERS),
    # Spend analysis: each member sees their own region by default (the secretariat all).
    "spend:suppliers": Route(Access.MEMBERS),
    "spend:months": Route(Access.MEMBERS),
    "spend:off_contract": Route(Access.MEMBERS),
    "spend:small_invoices": Route(Access.MEMBERS),
    "spend:unmapped": Route(Access.MEMBERS),
    "spend:export": Route(Access.MEMBERS, kwargs=lambda data: {"table": "categories"}),
    "spend:rules": Route(Access.MEMBERS),
    "spend:remap": Route(Access.POST_ONLY),
    "spend:mapping_rule_create": Route(Access.OFFICERS),
    "spend:mapping_rule_edit": Route(Access.RM_OFFICERS, kwargs=_rm_mapping_rule_pk),
    "spend:mapping_rule_delete": Route(Access.RM_OFFICERS, kwargs=_rm_mapping_rule_pk),
    "spend:exclusion_rule_create": Route(Access.OFFICERS),
    "spend:exclusion_rule_edit": Route(Access.RM_OFFICERS, kwargs=_rm_exclusion_rule_pk),
    "spend:exclusion_rule_delete": Route(Access.RM_OFFICERS, kwargs=_rm_exclusion_rule_pk),
    "spend:column_mapping_create": Route(Access.OFFICERS),
    "spend:column_mapping_edit": Route(Access.RM_OFFICERS, kwargs=_rm_column_mapping_pk),
    "spend:column_mapping_delete": Route(Access.RM_OFFICERS, kwargs=_rm_column_mapping_pk),
    "spend:upload": Route(Access.MEMBERS),
    "spend:upload_template": Route(Access.MEMBERS, kwargs=lambda data: {"fmt": "xlsx"}),
    "spend:batch": Route(Access.RM_SPEND_READERS, kwargs=_rm_import_batch_pk),
    "spend:batch_status": Route(Access.RM_SPEND_READERS, kwargs=_rm_import_batch_pk),
    "spend:batch_errors": Route(Access.RM_SPEND_READERS, kwargs=_rm_import_batch_pk),
    "spend:batch_file": Route(Access.RM_SPEND_READERS, kwargs=_rm_import_batch_pk),
    "spend:batch_confirm": Route(Access.POST_ONLY, kwargs=_rm_import_batch_pk),
    "spend:batch_cancel": Route(Access.POST_ONLY, kwargs=_rm_import_batch_pk),
    "kpi:index": Route(Access.MEMBERS),
    # KPI dashboards: each member sees their own region by default (the secretariat the
    # first region); the collaboration dashboard is for chiefs, the UFO group and the
    # secretariat. Drill-downs to ledger lines follow the spend pages (own region).
    "kpi:collaboration": Route(Access.KPI_COLLABORATION),
    "kpi:report": Route(Access.MEMBERS),
    "kpi:export": Route(Access.MEMBERS),
    "kpi:compliance": Route(Access.MEMBERS),
    "kpi:digital_orders": Route(Access.MEMBERS),
    # Strategies and the action plan: read by whoever sees the collaboration's KPIs; the
    # secretariat enters a strategy (from a copy) and updates activities (POST only).
    "kpi:strategies": Route(Access.KPI_COLLABORATION),
    "kpi:strategy_create": Route(Access.SECRETARIAT),
    "kpi:action_plan": Route(Access.KPI_COLLABORATION),
    "kpi:activity_update": Route(Access.POST_ONLY, kwargs=lambda data: {"pk": 1}),
    # The public supplier portal (suppliers/public/urls.py): no login, publishable cases only.
    "public:index": Route(Access.PUBLIC),
    "public:timeline": Route(Access.PUBLIC),
    "public:region": Route(Access.PUBLIC, kwargs=lambda data: {"code": "RM"}),
    "public:detail": Route(Access.PUBLIC, kwargs=_public_tender_reference),
    "public:feed": Route(Access.PUBLIC),
    "public:calendar": Route(Access.PUBLIC),
    "public:csv": Route(Access.PUBLIC),
    "public:xlsx": Route(Access.PUBLIC),
    # OCDS open data and suppliers' e-mail alerts (docs/ocds.md): no login; the alert links
    # are authorised by their signed token (a bad token gives a 400 page, tests/public).
    "public:ocds": Route(Access.PUBLIC),
    "public:ocds_extension": Route(
        Access.PUBLIC, kwargs=lambda data: {"filename": "extension.json"}
    ),
    "public:ocds_extension_codelist": Route(
        Access.PUBLIC, kwargs=lambda data: {"filename": "participation.csv"}
    ),
    "public:ocds_extension_copy": Route(
        Access.PUBLIC, kwargs=lambda data: {"name": "options", "filename": "extension.json"}
    ),
    "public:ocds_extension_copy_codelist": Route(
        Access.PUBLIC,
        kwargs=lambda data: {"name": "techniques", "filename": "frameworkAgreementMethod.csv"},
    ),
    "public:alerts_subscribe": Route(Access.PUBLIC),
    "public:alerts_sent": Route(Access.PUBLIC),
    "public:alerts_confirm": Route(Access.PUBLIC, kwargs=_alert_confirm_token),
    "public:alerts_unsubscribe": Route(Access.PUBLIC, kwargs=_alert_manage_token),
    "public:alerts_delete": Route(Access.PUBLIC, kwargs=_alert_manage_token),
    "api-root": Route(Access.API),
    "api-me": Route(Access.API),
    "region-list": Route(Access.API),
    "region-detail": Route(Access.API, kwargs=_region_pk),
    "partnerbody-list": Route(Access.API),
    "partnerbody-detail": Route(Access.API, kwargs=_partner_body_pk),
    "category-list": Route(Access.API),
    "category-detail": Route(Access.API, kwargs=lambda data: {"code": "33000000"}),
    "api-token": Route(Access.POST_ONLY),
    "tender-list": Route(Access.API_MEMBERS),
    "tender-detail": Route(Access.API_MEMBERS, kwargs=_plan_tender_reference),
    "participation-list": Route(Access.API_MEMBERS),
    "participation-detail": Route(Access.API_MEMBERS, kwargs=_api_participation_rm_pk),
    "participation-exercise-option": Route(Access.API_POST_ONLY, kwargs=_api_participation_rm_pk),
    "candidate-list": Route(Access.API_MEMBERS),
    "candidate-detail": Route(Access.API_MEMBERS, kwargs=_ufo_candidate_pk),
    "candidate-screening": Route(Access.API_MEMBERS, kwargs=_ufo_candidate_pk),
    "candidate-recommend": Route(Access.API_POST_ONLY, kwargs=_ufo_candidate_pk),
    "candidate-decide": Route(Access.API_POST_ONLY, kwargs=_ufo_candidate_pk),
    "scoresheet-list": Route(Access.API_MEMBERS),
    "savings-list": Route(Access.API_MEMBERS),
    "savings-plans-list": Route(Access.API_MEMBERS),
    "contract-list": Route(Access.API_MEMBERS),
    "contract-detail": Route(Access.API_RM_CONTRACT_READERS, kwargs=_rm_contract_pk),
    "supplier-list": Route(Access.API_MEMBERS),
    "contractextension-list": Route(Access.API_MEMBERS),
    "contractextension-detail": Route(
        Access.API_RM_CONTRACT_READERS, kwargs=_rm_contract_extension_pk
    ),
    "supplier-detail": Route(Access.API_MEMBERS, kwargs=_supplier_identifier),
    "spend-totals": Route(Access.API_MEMBERS),
    "spend-by-category": Route(Access.API_MEMBERS),
    "spend-by-supplier": Route(Access.API_MEMBERS),
    "spend-by-month": Route(Access.API_MEMBERS),
    "ledgerline-list": Route(Access.API_MEMBERS),
    "mappingrule-list": Route(Access.API_MEMBERS),
    "mappingrule-detail": Route(Access.API_MEMBERS, kwargs=_common_mapping_rule_pk),
    "exclusionrule-list": Route(Access.API_MEMBERS),
    "exclusionrule-detail": Route(Access.API_MEMBERS, kwargs=_common_exclusion_rule_pk),
    "importbatch-list": Route(Access.API_MEMBERS),
    "importbatch-detail": Route(Access.API_RM_SPEND_READERS, kwargs=_rm_import_batch_pk),
    "importbatch-confirm": Route(Access.API_POST_ONLY, kwargs=_rm_import_batch_pk),
    "importbatch-cancel": Route(Access.API_POST_ONLY, kwargs=_rm_import_batch_pk),
    "kpisnapshot-list": Route(Access.API_MEMBERS),
    "kpisnapshot-detail": Route(Access.API_RM_KPI_READERS, kwargs=_rm_kpi_snapshot_pk),
    # The OpenAPI schema and its viewer describe the endpoints, never their data;
    # drf-spectacular serves them to everyone (SERVE_PERMISSIONS default AllowAny).
    "schema": Route(Access.PUBLIC),
    "api-docs": Route(Access.PUBLIC),
    ADMIN_NAMESPACE: Route(Access.ADMIN, samples=("admin:index", "admin:rfi_region_changelist")),
}


def _route_names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _route_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def resolver_names() -> set[str]:
    """Every named route of the project, the admin namespace counted as one class."""
    return {
        ADMIN_NAMESPACE if name.startswith("admin:") else name
        for name in _route_names(get_resolver())
    }


def test_every_route_is_classified():
    names = resolver_names()

    unclassified = sorted(names - set(ROUTES))
    stale = sorted(set(ROUTES) - names)

    assert not unclassified, f"routes missing from the permission matrix: {unclassified}"
    assert not stale, f"the permission matrix names routes that no longer exist: {stale}"


def test_the_resolver_walk_sees_namespaced_and_api_routes():
    names = _route_names(get_resolver())

    assert {"tenders:index", "kpi:index", "region-detail", "admin:index"} <= names
    assert "admin:rfi_region_changelist" in names


# --- every persona × every GET route --------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    statuses: frozenset[int]
    redirect_to: str | None = None


def _ok() -> Outcome:
    return Outcome(frozenset({200}))


def _forbidden() -> Outcome:
    return Outcome(frozenset({403}))


def _to_login(url: str) -> Outcome:
    return Outcome(frozenset({302}), f"{reverse('login')}?next={url}")


def expected(access: Access, persona: str, url: str) -> Outcome:
    anonymous = persona == "anonymous"
    if access is Access.PUBLIC:
        return _ok()
    if access is Access.SIGNED_IN:
        return _to_login(url) if anonymous else _ok()
    if access is Access.MEMBERS:
        if anonymous:
            return _to_login(url)
        return _forbidden() if persona == "outsider" else _ok()
    if access is Access.SECRETARIAT:
        if anonymous:
            return _to_login(url)
        return _ok() if persona == "secretariat" else _forbidden()
    if access is Access.OPERATOR:
        return _ok() if persona == "secretariat" else Outcome(frozenset({404}))
    if access is Access.API:
        return Outcome(frozenset({401, 403})) if anonymous else _ok()
    if access is Access.GUESTS:
        return _ok() if anonymous else Outcome(frozenset({302}), reverse("home"))
    if access is Access.POST_ONLY:
        return Outcome(frozenset({405}))
    if access is Access.REDIRECT:
        return Outcome(frozenset({302}), "/")
    if access is Access.OFFICERS:
        if anonymous:
            return _to_login(url)
        return _ok() if persona in {"officer_rm", "officer_rsd", "secretariat"} else _forbidden()
    if access is Access.RM_OFFICERS:
        if anonymous:
            return _to_login(url)
        return _ok() if persona in {"officer_rm", "secretariat"} else _forbidden()
    if access is Access.PROPOSERS:
        if anonymous:
            return _to_login(url)
        proposers = {"officer_rm", "officer_rsd", "ufo_member", "secretariat"}
        return _ok() if persona in proposers else _forbidden()
    if access is Access.UFO:
        if anonymous:
            return _to_login(url)
        return _ok() if persona == "ufo_member" else _forbidden()
    if access is Access.KPI_COLLABORATION:
        if anonymous:
            return _to_login(url)
        return _ok() if persona in {"chief", "ufo_member", "secretariat"} else _forbidden()
    if access is Access.CHIEFS:
        if anonymous:
            return _to_login(url)
        return _ok() if persona in {"chief", "secretariat"} else _forbidden()
    if access is Access.API_MEMBERS:
        if anonymous:
            return Outcome(frozenset({401, 403}))
        return _forbidden() if persona == "outsider" else _ok()
    if access is Access.API_POST_ONLY:
        if anonymous:
            return Outcome(frozenset({401, 403}))
        return _forbidden() if persona == "outsider" else Outcome(frozenset({405}))
    if access is Access.RM_CONTRACT_READERS:
        if anonymous:
            return _to_login(url)
        if persona == "officer_rsd":
            return Outcome(frozenset({404}))
        return _forbidden() if persona == "outsider" else _ok()
    if access is Access.RM_CONTRACT_EDITORS:
        if anonymous:
            return _to_login(url)
        if persona == "officer_rsd":
            return Outcome(frozenset({404}))
        return _ok() if persona in {"officer_rm", "secretariat"} else _forbidden()
    if access in (Access.API_RM_CONTRACT_READERS, Access.API_RM_KPI_READERS):
        if anonymous:
            return Outcome(frozenset({401, 403}))
        if persona == "officer_rsd":
            return Outcome(frozenset({404}))
        return _forbidden() if persona == "outsider" else _ok()
    if access is Access.RM_SPEND_READERS:
        if anonymous:
            return _to_login(url)
        if persona == "officer_rsd":
            return Outcome(frozenset({404}))
        return _forbidden() if persona == "outsider" else _ok()
    if access is Access.API_RM_SPEND_READERS:
        if anonymous:
            return Outcome(frozenset({401, 403}))
        if persona == "officer_rsd":
            return Outcome(frozenset({404}))
        return _forbidden() if persona == "outsider" else _ok()
    if access is Access.ADMIN:
        if persona == "secretariat":
            return _ok()
        return Outcome(frozenset({302}), f"{reverse('admin:login')}?next={url}")
    raise AssertionError(f"no rule for {access}")


def _get_cases() -> list[tuple[str, str]]:
    cases = []
    for name, route in ROUTES.items():
        for url_name in route.samples or (name,):
            cases.extend((persona, url_name) for persona in PERSONAS)
    return cases


def _route_of(url_name: str) -> Route:
    return ROUTES[ADMIN_NAMESPACE if url_name.startswith("admin:") else url_name]


@pytest.mark.parametrize(("persona", "url_name"), _get_cases())
def test_get_route_as_persona(persona, url_name, persona_client, regions, category_33):
    # given
    route = _route_of(url_name)
    url = reverse(url_name, kwargs=route.kwargs({"regions": regions}))
    _, client = persona_client(persona)

    # when
    response = client.get(url)
    response.close()  # a file download's handle, as the WSGI server would

    # then
    outcome = expected(route.access, persona, url)
    assert response.status_code in outcome.statuses, (
        f"{persona} GET {url} ({url_name}, {route.access.name}): "
        f"{response.status_code}, expected {sorted(outcome.statuses)}"
    )
    if outcome.redirect_to is not None:
        assert response["Location"] == outcome.redirect_to


@pytest.mark.parametrize("persona", ["anonymous", "officer_rm", "secretariat"])
def test_format_suffix_routes_follow_the_same_rule(persona, persona_client, regions):
    _, client = persona_client(persona)

    response = client.get(reverse("region-list", kwargs={"format": "json"}))

    if persona == "anonymous":
        assert response.status_code in {401, 403}
    else:
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        assert {r["code"] for r in response.json()["results"]} == set(regions)


def test_a_refused_page_shows_the_access_denied_page(persona_client):
    _, client = persona_client("outsider")

    response = client.get(reverse("tenders:index"))

    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]


@pytest.mark.parametrize("persona", PERSONAS)
def test_logout_by_post_signs_out(persona, persona_client):
    user, client = persona_client(persona)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "_auth_user_id" not in client.session


# --- writes through the API -------------------------------------------------------------

NEW_REGION = {"code": "RX", "name_da": "Region Eksempel", "name_en": "Example Region"}
NEW_PARTNER_BODY = {"code": "NEWBODY", "name_da": "Nyt indkøbsfællesskab", "kind": "other"}


@pytest.mark.parametrize(
    ("persona", "statuses"),
    [
        ("anonymous", {401, 403}),
        ("outsider", {403}),
        ("officer_rm", {403}),
        ("officer_rsd", {403}),
        ("ufo_member", {403}),
        ("chief", {403}),
        ("secretariat", {201}),
    ],
)
def test_create_region_through_api(persona, statuses, persona_client, regions):
    _, client = persona_client(persona)

    response = client.post(reverse("region-list"), NEW_REGION, content_type="application/json")

    assert response.status_code in statuses
    created = Region.objects.filter(code="RX").exists()
    assert created is (persona == "secretariat")


@pytest.mark.parametrize(
    ("persona", "statuses"),
    [
        ("anonymous", {401, 403}),
        ("officer_rm", {403}),
        ("ufo_member", {403}),
        ("chief", {403}),
        ("secretariat", {201}),
    ],
)
def test_create_partner_body_through_api(persona, statuses, persona_client, regions):
    _, client = persona_client(persona)

    response = client.post(
        reverse("partnerbody-list"), NEW_PARTNER_BODY, content_type="application/json"
    )

    assert response.status_code in statuses
    assert PartnerBody.objects.filter(code="NEWBODY").exists() is (persona == "secretariat")


@pytest.mark.parametrize(
    ("persona", "status"), [("officer_rm", 403), ("chief", 403), ("secretariat", 200)]
)
def test_rename_region_through_api(persona, status, persona_client, regions):
    _, client = persona_client(persona)
    rm = regions["RM"]

    response = client.patch(
        reverse("region-detail", kwargs={"pk": rm.pk}),
        {"name_da": "Region Midt"},
        content_type="application/json",
    )

    assert response.status_code == status
    rm.refresh_from_db()
    assert (rm.name_da == "Region Midt") is (persona == "secretariat")


@pytest.mark.parametrize(("persona", "status"), [("officer_rm", 403), ("secretariat", 405)])
def test_categories_are_read_only_through_api(persona, status, persona_client, category_33):
    _, client = persona_client(persona)

    response = client.post(
        reverse("category-list"),
        {"code": "33100000", "label_da": "x", "label_en": "x"},
        content_type="application/json",
    )

    assert response.status_code == status


# --- the rules themselves --------------------------------------------------------------

RULES = {
    # rule: the personas it answers True for
    permissions.is_secretariat: {"secretariat"},
    permissions.can_manage_reference_data: {"secretariat"},
    permissions.can_view_audit_log: {"secretariat"},
    permissions.can_access_admin: {"secretariat"},
    permissions.can_view_internal_pages: {*MEMBER_PERSONAS, "secretariat"},
    permissions.can_view_reference_data: {*MEMBER_PERSONAS, "secretariat", "outsider"},
    permissions.can_view_own_profile: {*MEMBER_PERSONAS, "secretariat", "outsider"},
    permissions.can_use_api: {*MEMBER_PERSONAS, "secretariat", "outsider"},
    permissions.can_view_health: set(PERSONAS),
    permissions.can_propose_candidate: {"officer_rm", "officer_rsd", "ufo_member", "secretariat"},
    permissions.can_score_candidate: {"ufo_member"},
    permissions.can_recommend_candidate: {"ufo_member", "secretariat"},
    permissions.can_decide_candidate: {"chief", "secretariat"},
    permissions.can_vote_candidate: {"chief"},
    permissions.can_record_meeting_decision: {"secretariat"},
    permissions.can_import_plan: {"secretariat"},
    permissions.can_manage_plan_settings: {"secretariat"},
    permissions.can_view_all_contracts: {"ufo_member", "secretariat"},
    permissions.can_register_contract: {"officer_rm", "officer_rsd", "secretariat"},
    permissions.can_import_contracts: {"officer_rm", "officer_rsd", "secretariat"},
    permissions.can_view_all_regions_spend: {"chief", "ufo_member", "secretariat"},
    permissions.can_manage_spend_rules: {"officer_rm", "officer_rsd", "secretariat"},
    permissions.can_view_collaboration_kpis: {"chief", "ufo_member", "secretariat"},
    permissions.can_view_strategies: {"chief", "ufo_member", "secretariat"},
    permissions.can_manage_strategies: {"secretariat"},
    permissions.can_follow_action_plan: {"chief", "ufo_member", "secretariat"},
    permissions.can_update_activity: {"secretariat"},
}


@pytest.mark.parametrize("rule", list(RULES), ids=lambda rule: rule.__name__)
@pytest.mark.parametrize("persona", PERSONAS)
def test_permission_rule(rule, persona, request):
    user = request.getfixturevalue(persona)

    assert rule(user) is (persona in RULES[rule])


def test_roles_are_per_region(officer_rm, regions):
    assert permissions.roles_in(officer_rm, regions["RM"]) == {Membership.Role.OFFICER}
    assert permissions.roles_in(officer_rm, regions["RSD"]) == set()
    assert permissions.regions_with_role(officer_rm, Membership.Role.OFFICER) == {regions["RM"].pk}
    assert not permissions.has_role(officer_rm, Membership.Role.CHIEF)


def test_a_role_in_a_deactivated_region_gives_no_access(officer_rm, regions):
    # given
    Region.objects.filter(code="RM").update(active=False)

    # when
    response = client_for(officer_rm).get(reverse("tenders:index"))

    # then
    assert response.status_code == 403
    assert not permissions.can_view_internal_pages(officer_rm)


def test_a_deactivated_staff_account_is_not_the_secretariat(secretariat):
    secretariat.is_active = False

    assert not permissions.is_secretariat(secretariat)
    assert not permissions.can_manage_reference_data(secretariat)


@pytest.mark.parametrize(
    ("persona", "rm", "rsd"),
    [
        ("officer_rm", True, False),
        ("officer_rsd", False, True),
        ("chief", True, True),
        ("ufo_member", True, True),
        ("secretariat", True, True),
        ("outsider", False, False),
        ("anonymous", False, False),
    ],
)
def test_who_reads_a_regions_kpi_cards(persona, rm, rsd, request, regions):
    user = request.getfixturevalue(persona)

    assert permissions.can_view_region_kpis(user, regions["RM"]) is rm
    assert permissions.can_view_region_kpis(user, regions["RSD"]) is rsd


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("anonymous", 302),
        ("officer_rm", 403),
        ("chief", 403),
        ("ufo_member", 403),
        ("secretariat", 302),
    ],
)
def test_update_an_action_plan_activity_by_post(persona, status, persona_client, regions):
    strategy = Strategy.objects.create(
        name="Matrix-strategi", code="MATRIX", start_year=2015, end_year=2020, baseline_year=2014
    )
    activity = StrategyActivity.objects.create(strategy=strategy, title="Matrix-aktivitet")
    _, client = persona_client(persona)

    response = client.post(
        reverse("kpi:activity_update", kwargs={"pk": activity.pk}),
        {f"a{activity.pk}-status": "done", f"a{activity.pk}-note": "Afsluttet"},
    )

    assert response.status_code == status
    activity.refresh_from_db()
    assert (activity.status == "done") is (persona == "secretariat")
