"""Admin for spend; every right comes from rfi.permissions.

The rule pages under /forbrug/regler/ are where officers work; the admin is the
secretariat's view of the same rules with their history, and a read-only record of the
import batches. Ledger lines are not in the admin: there are millions of them.
"""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from rfi import permissions
from spend.models import ColumnMapping, ExclusionRule, ImportBatch, MappingRule


class RuleAdminBase(SimpleHistoryAdmin):
    def has_view_permission(self, request, obj=None):
        return permissions.can_access_admin(request.user)

    def has_add_permission(self, request):
        return permissions.can_access_admin(request.user) and permissions.can_manage_spend_rules(
            request.user
        )

    def has_change_permission(self, request, obj=None):
        if not permissions.can_access_admin(request.user):
            return False
        if obj is None:
            return permissions.can_manage_spend_rules(request.user)
        return permissions.can_edit_spend_rules(request.user, obj.region)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


@admin.register(MappingRule)
class MappingRuleAdmin(RuleAdminBase):
    list_display = [
        "priority",
        "region",
        "kind",
        "account_from",
        "account_to",
        "cost_centre",
        "supplier_id",
        "category",
        "active",
    ]
    list_filter = ["region", "kind", "active"]
    search_fields = ["account_from", "account_to", "cost_centre", "supplier_id", "category__code"]
    raw_id_fields = ["category"]
    list_select_related = ["region", "category"]


@admin.register(ExclusionRule)
class ExclusionRuleAdmin(RuleAdminBase):
    list_display = [
        "region",
        "kind",
        "account_from",
        "account_to",
        "category_prefix",
        "reason",
        "active",
    ]
    list_filter = ["region", "kind", "active"]
    search_fields = ["account_from", "account_to", "category_prefix", "reason"]
    list_select_related = ["region"]


@admin.register(ColumnMapping)
class ColumnMappingAdmin(RuleAdminBase):
    list_display = ["region", "source_header", "canonical"]
    list_filter = ["region", "canonical"]
    search_fields = ["source_header"]
    list_select_related = ["region"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """The record of every upload: who, when, file, hash, rows, total, status, errors."""

    list_display = [
        "pk",
        "region",
        "file_name",
        "status",
        "is_current",
        "period_start",
        "period_end",
        "rows_loaded",
        "spend_total",
        "uploaded_by",
        "uploaded_at",
    ]
    list_filter = ["region", "status", "is_current", "source"]
    search_fields = ["file_name", "sha256"]
    list_select_related = ["region", "uploaded_by"]
    date_hierarchy = "uploaded_at"
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return permissions.can_access_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
