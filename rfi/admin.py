"""Admin for the reference data; rights come from rfi.permissions like everywhere else."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from rfi import permissions
from rfi.models import Category, Membership, PartnerBody, Region

admin.site.has_permission = lambda request: permissions.can_access_admin(request.user)
admin.site.site_header = "RFI – Regionernes Fælles Indkøb"


class ReferenceDataAdmin(SimpleHistoryAdmin):
    def has_view_permission(self, request, obj=None):
        return permissions.can_view_reference_data(request.user)

    def has_add_permission(self, request):
        return permissions.can_manage_reference_data(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_reference_data(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_reference_data(request.user)


@admin.register(Region)
class RegionAdmin(ReferenceDataAdmin):
    list_display = ["code", "name_da", "name_en", "procurement_email", "active"]
    list_filter = ["active"]
    fieldsets = [
        (None, {"fields": ["code", "name_da", "name_en", "active"]}),
        (
            _("Procurement contact (public: shown to suppliers on the tender portal)"),
            {
                "fields": [
                    "procurement_contact",
                    "procurement_email",
                    "procurement_phone",
                    "procurement_url",
                ]
            },
        ),
    ]


@admin.register(PartnerBody)
class PartnerBodyAdmin(ReferenceDataAdmin):
    list_display = ["code", "name_da", "kind", "is_medicine_body", "active"]
    list_filter = ["kind", "is_medicine_body", "active"]


@admin.register(Membership)
class MembershipAdmin(ReferenceDataAdmin):
    list_display = ["user", "region", "role"]
    list_filter = ["region", "role"]
    autocomplete_fields = ["user"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "check_digit", "label_da", "label_en", "level"]
    list_filter = ["level"]
    search_fields = ["code", "label_da", "label_en"]
    raw_id_fields = ["parent"]

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_reference_data(request.user)

    def has_add_permission(self, request):
        return False  # the tree comes from the CPV file (manage.py load_cpv)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_reference_data(request.user)

    def has_delete_permission(self, request, obj=None):
        return False
