"""Admin for the joint tender plan; every right comes from rfi.permissions.

The plan's pages are where officers work; the admin is the secretariat's tool
for the lists it keeps (opt-out reasons, scoring criteria, savings methods,
area mappings, plan settings) and for looking into cases, with their full history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from rfi import permissions
from tenders import services
from tenders.models import (
    AreaMapping,
    CandidateArea,
    DeadlineReminder,
    OptOutReason,
    Participation,
    PlanSettings,
    SavingsMethod,
    SavingsPlan,
    SavingsRecord,
    ScoreSheet,
    ScoringCriterion,
    TenderCase,
    VolumeScoreThreshold,
)


class PlanSettingsAdminBase(SimpleHistoryAdmin):
    """Lists the secretariat keeps: reasons, criteria, methods and the settings row."""

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_internal_pages(request.user)

    def has_add_permission(self, request):
        return permissions.can_manage_plan_settings(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_plan_settings(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_plan_settings(request.user)


@admin.register(PlanSettings)
class PlanSettingsAdmin(PlanSettingsAdminBase):
    list_display = ["__str__", "min_justification_length", "reminder_days"]

    def has_add_permission(self, request):
        # One row: PlanSettings.current() creates it.
        return super().has_add_permission(request) and not PlanSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OptOutReason)
class OptOutReasonAdmin(PlanSettingsAdminBase):
    list_display = ["code", "label_da", "label_en", "asks_contract_end", "active", "order"]
    list_filter = ["active", "asks_contract_end"]
    list_editable = ["active", "order"]


@admin.register(ScoringCriterion)
class ScoringCriterionAdmin(PlanSettingsAdminBase):
    list_display = ["code", "label_da", "weight", "active", "order"]
    list_filter = ["active"]
    list_editable = ["weight", "active", "order"]
    # The rubric (what each score means) is edited on /fup/ufo/kriterier/, which checks it.
    exclude = ["rubric"]


@admin.register(VolumeScoreThreshold)
class VolumeScoreThresholdAdmin(PlanSettingsAdminBase):
    """Annual spend from which the volume criterion's score is suggested (docs/screening.md)."""

    list_display = ["score", "min_annual_spend"]
    list_editable = ["min_annual_spend"]


@admin.register(AreaMapping)
class AreaMappingAdmin(PlanSettingsAdminBase):
    """CPV prefix → suggested area of a case; the longest matching prefix wins."""

    list_display = ["prefix", "area", "note"]
    list_filter = ["area"]
    list_editable = ["area"]
    search_fields = ["prefix", "note"]


@admin.register(SavingsMethod)
class SavingsMethodAdmin(admin.ModelAdmin):
    list_display = ["code", "label_da", "label_en"]

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_internal_pages(request.user)

    def has_add_permission(self, request):
        return permissions.can_manage_plan_settings(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_plan_settings(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_plan_settings(request.user)


class TenderCaseForm(forms.ModelForm):
    class Meta:
        model = TenderCase
        fields = "__all__"

    def _post_clean(self):
        # The instance holds the form's values only after ModelForm._post_clean.
        super()._post_clean()
        try:
            services.tender_validate(self.instance)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    can_delete = False
    fields = ["region", "status", "opt_out_reason", "justification", "decided_by", "decided_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TenderCase)
class TenderCaseAdmin(SimpleHistoryAdmin):
    form = TenderCaseForm
    list_display = ["reference", "title", "status", "area", "kind", "lead_region", "lead_partner"]
    list_filter = ["status", "area", "kind", "lead_region", "lead_partner"]
    search_fields = ["reference", "title", "category__code"]
    raw_id_fields = ["category"]
    readonly_fields = ["reference", "created_at", "updated_at"]
    inlines = [ParticipationInline]

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_internal_pages(request.user)

    def has_add_permission(self, request):
        # A case gets its reference and a pending row per region from services.tender_create.
        return False

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return permissions.can_create_tender(request.user)
        return permissions.can_edit_tender(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_plan_settings(request.user)


@admin.register(Participation)
class ParticipationAdmin(SimpleHistoryAdmin):
    """Read-only here: decisions go through the follow-or-explain form of the plan."""

    list_display = ["tender", "region", "status", "opt_out_reason", "decided_by", "decided_at"]
    list_filter = ["status", "region", "opt_out_reason"]
    search_fields = ["tender__reference", "tender__title", "justification"]

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_internal_pages(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeadlineReminder)
class DeadlineReminderAdmin(admin.ModelAdmin):
    list_display = ["participation", "deadline", "days_before", "sent_at", "recipients"]
    list_filter = ["days_before"]

    def has_view_permission(self, request, obj=None):
        return permissions.can_manage_plan_settings(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CandidateArea)
class CandidateAreaAdmin(SimpleHistoryAdmin):
    list_display = ["title", "plan_year", "status", "proposer_region", "tender"]
    list_filter = ["status", "plan_year"]
    search_fields = ["title", "category__code"]
    raw_id_fields = ["category", "tender"]

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_internal_pages(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_plan_settings(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_plan_settings(request.user)


class RecordedByServicesAdmin(SimpleHistoryAdmin):
    """Read-only: the services write these with rules an admin form does not check; the
    secretariat may delete a wrong one."""

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_internal_pages(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_plan_settings(request.user)


@admin.register(ScoreSheet)
class ScoreSheetAdmin(RecordedByServicesAdmin):
    list_display = ["candidate", "scorer", "with_other_body", "updated_at"]
    list_filter = ["with_other_body"]


@admin.register(SavingsRecord)
class SavingsRecordAdmin(SimpleHistoryAdmin):
    list_display = ["tender", "region", "baseline_annual_cost", "new_annual_cost", "method"]
    list_filter = ["region", "method"]
    search_fields = ["tender__reference", "tender__title"]

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_internal_pages(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return permissions.is_secretariat(request.user)
        return permissions.can_record_savings(request.user, obj.tender, obj.region)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_plan_settings(request.user)


@admin.register(SavingsPlan)
class SavingsPlanAdmin(RecordedByServicesAdmin):
    """Read-only here: plans are kept on the savings page (services.savings_plan_set)."""

    list_display = ["region", "year", "owner", "forecast", "updated_at"]
    list_filter = ["year", "region"]
    search_fields = ["owner__username", "owner__first_name", "owner__last_name", "note"]
    list_select_related = ["region", "owner"]
