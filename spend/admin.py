"""Admin for spend; every right comes from rfi.permissions.

The rule pages under /forbrug/regler/ are where officers work; the admin is the
secretariat's view of the same rules with their history, and a read-only record of the
import batches. Ledger lines are not in the admin: there are millions of them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from rfi import permissions
from spend import rules
from spend.models import ColumnMapping, ExclusionRule, ImportBatch, MappingRule


class RuleAdminForm(forms.ModelForm):
    """Shows a rule's errors on the form: the admin validates with the service's own checks."""

    clean_rule = None  # the pure check from spend.rules for this kind of rule

    def clean(self):
        data = super().clean()
        check = type(self).clean_rule
        if check is not None and "kind" in data:
            try:
                data.update(check({name: data.get(name) for name in self.Meta.fields}))
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    self.add_error(name if name in self.fields else None, messages)
        return data


class MappingRuleAdminForm(RuleAdminForm):
    clean_rule = staticmethod(rules.clean_mapping_rule)

    class Meta:
        model = MappingRule
        fields = list(rules.MAPPING_RULE_FIELDS)


class ExclusionRuleAdminForm(RuleAdminForm):
    clean_rule = staticmethod(rules.clean_exclusion_rule)

    class Meta:
        model = ExclusionRule
        fields = list(rules.EXCLUSION_RULE_FIELDS)


class RuleAdminBase(SimpleHistoryAdmin):
    """The admin's writes go through the rule services, which check the rights again."""

    save_service = None  # save(*, actor, rule=None, **fields)
    fields_saved: tuple[str, ...] = ()

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

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in self.fields_saved if name in form.cleaned_data
        }
        type(self).save_service(actor=request.user, rule=obj, **fields)

    def delete_model(self, request, obj):
        rules.rule_delete(actor=request.user, rule=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("region"):
            rules.rule_delete(actor=request.user, rule=obj)


@admin.register(MappingRule)
class MappingRuleAdmin(RuleAdminBase):
    form = MappingRuleAdminForm
    save_service = staticmethod(rules.mapping_rule_save)
    fields_saved = rules.MAPPING_RULE_FIELDS
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
    form = ExclusionRuleAdminForm
    save_service = staticmethod(rules.exclusion_rule_save)
    fields_saved = rules.EXCLUSION_RULE_FIELDS
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
    save_service = staticmethod(rules.column_mapping_save)
    fields_saved = rules.COLUMN_MAPPING_FIELDS
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
