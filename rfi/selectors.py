"""Reads of the reference data shared by pages and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import django_filters
from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from rfi.models import Category, Membership


def category_search(*, query: str, queryset: QuerySet[Category] | None = None):
    """Categories whose code starts with the digits typed, or whose Danish/English label matches."""
    queryset = Category.objects.all() if queryset is None else queryset
    query = (query or "").strip()
    if not query:
        return queryset
    digits = query.replace("-", "")
    if digits.isdigit():
        return queryset.filter(code__startswith=digits[:8])
    condition = Q()
    for word in query.split():
        condition &= Q(label_da__icontains=word) | Q(label_en__icontains=word)
    return queryset.filter(condition)


class CategoryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Code or label (Danish or English)")
    parent = django_filters.CharFilter(field_name="parent__code", label="Parent CPV code")
    level = django_filters.NumberFilter(field_name="level")

    class Meta:
        model = Category
        fields = ["q", "parent", "level"]

    def filter_q(self, queryset, name, value):
        return category_search(query=value, queryset=queryset)


def memberships_of(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("region").order_by("region__code")


def api_tokens_of(*, user):
    """The user's API tokens that still work, newest first (the secret itself is never kept)."""
    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")


# The audit trail (/historik/) -----------------------------------------------------------------

# A history row belongs to a region through the first of these fields its model has.
_REGION_FIELDS = ("region", "lead_region", "proposer_region")


@dataclass(frozen=True)
class AuditKind:
    key: str  # "app_label.model_name"
    label: str
    region_field: str | None  # None: not tied to one region


@dataclass
class AuditEntry:
    when: dt.datetime
    user: object | None
    action: str
    kind: AuditKind
    record: str
    changed: list[str] = field(default_factory=list)
    region: str = ""


def audit_kinds() -> list[AuditKind]:
    """Every model that keeps a history (django-simple-history), plus ledger imports."""
    kinds = []
    for model in apps.get_models():
        if not hasattr(model._meta, "simple_history_manager_attribute"):
            continue
        if model._meta.label_lower == "rfi.region":
            region_field = "id"
        else:
            names = {f.name for f in model._meta.concrete_fields}
            region_field = next((name for name in _REGION_FIELDS if name in names), None)
        kinds.append(
            AuditKind(model._meta.label_lower, str(model._meta.verbose_name), region_field)
        )
    if apps.is_installed("spend"):
        batch = apps.get_model("spend", "ImportBatch")
        kinds.append(AuditKind("spend.importbatch", str(batch._meta.verbose_name), "region"))
    return sorted(kinds, key=lambda kind: kind.label.lower())


_ACTIONS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


def _changed_fields(record) -> list[str]:
    if record.history_type != "~" or record.prev_record is None:
        return []
    delta = record.diff_against(record.prev_record)
    labels = {f.name: str(f.verbose_name) for f in record.instance_type._meta.fields}
    return [labels.get(change.field, change.field) for change in delta.changes]


def _history_entries(kind: AuditKind, filters: dict, limit: int) -> list[AuditEntry]:
    model = apps.get_model(kind.key)
    rows = model.history.select_related("history_user")
    if filters.get("region") is not None:
        column = "id" if kind.region_field == "id" else f"{kind.region_field}_id"
        rows = rows.filter(**{column: filters["region"].pk})
    if filters.get("user"):
        rows = rows.filter(history_user__username__iexact=filters["user"])
    if filters.get("date_from"):
        rows = rows.filter(history_date__date__gte=filters["date_from"])
    if filters.get("date_to"):
        rows = rows.filter(history_date__date__lte=filters["date_to"])
    entries = []
    for record in rows.order_by("-history_date", "-history_id")[:limit]:
        entries.append(
            AuditEntry(
                when=record.history_date,
                user=record.history_user,
                action=str(_ACTIONS.get(record.history_type, record.history_type)),
                kind=kind,
                record=str(record.instance),
                changed=_changed_fields(record),
            )
        )
    return entries


def _import_entries(kind: AuditKind, filters: dict, limit: int) -> list[AuditEntry]:
    """Ledger uploads: one entry when a file is uploaded, one when its import ends."""
    batch_model = apps.get_model("spend", "ImportBatch")
    batches = batch_model.objects.select_related("uploaded_by", "region")
    if filters.get("region") is not None:
        batches = batches.filter(region=filters["region"])
    if filters.get("user"):
        batches = batches.filter(uploaded_by__username__iexact=filters["user"])
    entries = []
    for stamp, action in (("uploaded_at", _("uploaded")), ("finished_at", None)):
        rows = batches.filter(**{f"{stamp}__isnull": False})
        if filters.get("date_from"):
            rows = rows.filter(**{f"{stamp}__date__gte": filters["date_from"]})
        if filters.get("date_to"):
            rows = rows.filter(**{f"{stamp}__date__lte": filters["date_to"]})
        for batch in rows.order_by(f"-{stamp}")[:limit]:
            entries.append(
                AuditEntry(
                    when=getattr(batch, stamp),
                    user=batch.uploaded_by,
                    action=str(action or batch.get_status_display()),
                    kind=kind,
                    record=f"{batch.file_name} ({batch.region.code})",
                )
            )
    return entries


def audit_page(*, page: int = 1, per_page: int = 50, **filters) -> tuple[list[AuditEntry], bool]:
    """One page of the audit trail, and whether an older page exists."""
    page = max(1, page)
    entries = audit_entries(limit=page * per_page + 1, **filters)
    start = (page - 1) * per_page
    return entries[start : start + per_page], len(entries) > start + per_page


def audit_entries(
    *, region=None, user: str = "", kind: str = "", date_from=None, date_to=None, limit: int = 50
) -> list[AuditEntry]:
    """The newest ``limit`` domain changes across every history, filtered, newest first.

    Each history is asked for at most ``limit`` rows, so a page costs one query per kind
    (plus one per changed row for its field names), however long the history grows.
    """
    filters = {"region": region, "user": user, "date_from": date_from, "date_to": date_to}
    entries: list[AuditEntry] = []
    for audit_kind in audit_kinds():
        if kind and audit_kind.key != kind:
            continue
        if region is not None and audit_kind.region_field is None:
            continue
        if audit_kind.key == "spend.importbatch":
            entries.extend(_import_entries(audit_kind, filters, limit))
        else:
            entries.extend(_history_entries(audit_kind, filters, limit))
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit]
