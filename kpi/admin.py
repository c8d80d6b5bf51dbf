"""Admin for strategies and their targets (the secretariat's data), and a look at KPI runs.

Targets are data: the secretariat enters the next strategy and its targets here. Runs and
snapshots are written only by the recompute; the admin shows them read-only.
"""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kpi.models import KpiRun, KpiSnapshot, Strategy, StrategyActivity, StrategyTarget
from rfi import permissions


class SecretariatWrites:
    def has_view_permission(self, request, obj=None):
        return permissions.can_access_admin(request.user)

    def has_module_permission(self, request):
        return permissions.can_access_admin(request.user)

    def has_add_permission(self, request, obj=None):
        return permissions.can_manage_reference_data(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_reference_data(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_reference_data(request.user)


class ReadOnly:
    def has_view_permission(self, request, obj=None):
        return permissions.can_access_admin(request.user)

    def has_module_permission(self, request):
        return permissions.can_access_admin(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StrategyTargetInline(SecretariatWrites, admin.TabularInline):
    model = StrategyTarget
    extra = 0
    fields = ["key", "comparison", "value", "unit", "note"]


class StrategyActivityInline(SecretariatWrites, admin.TabularInline):
    model = StrategyActivity
    extra = 0
    fields = ["position", "objective", "title", "responsible_region", "due_date", "status", "note"]


@admin.register(Strategy)
class StrategyAdmin(SecretariatWrites, SimpleHistoryAdmin):
    list_display = ["name", "code", "start_year", "end_year", "baseline_year"]
    inlines = [StrategyTargetInline, StrategyActivityInline]


@admin.register(KpiRun)
class KpiRunAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["pk", "started_at", "status", "scope", "region", "year", "snapshot_count"]
    list_filter = ["status", "scope"]
    readonly_fields = [f.name for f in KpiRun._meta.fields]


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["key", "region", "period_label", "value", "available", "is_current", "run"]
    list_filter = ["is_current", "period_kind", "available", "key", "region"]
    search_fields = ["key", "period_label"]
    list_select_related = ["region", "run"]
    readonly_fields = [f.name for f in KpiSnapshot._meta.fields]
