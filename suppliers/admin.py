"""Admin for the supplier register and the contract registry; rights from rfi.permissions.

Officers register contracts on the registry's pages; the admin is the secretariat's
tool for looking into contracts with their full history, and for the suppliers'
SME flag, which no import carries.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from rfi import permissions
from suppliers import services
from suppliers.models import Contract, Supplier


class SupplierForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = "__all__"

    def clean(self):
        data = super().clean()
        try:
            data["country"] = services.supplier_country_clean(data.get("country"))
            data["identifier"] = services.supplier_identifier_clean(
                data.get("identifier"), data["country"]
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


@admin.register(Supplier)
class SupplierAdmin(SimpleHistoryAdmin):
    form = SupplierForm
    list_display = ["identifier", "name", "country", "is_sme", "updated_at"]
    list_filter = ["country", "is_sme"]
    search_fields = ["identifier", "name"]

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_internal_pages(request.user)

    def has_add_permission(self, request):
        return permissions.can_manage_reference_data(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_reference_data(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_reference_data(request.user)


class ContractForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = "__all__"

    def _post_clean(self):
        # The instance holds the form's values only after ModelForm._post_clean.
        super()._post_clean()
        try:
            services.contract_validate(self.instance)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)


@admin.register(Contract)
class ContractAdmin(SimpleHistoryAdmin):
    form = ContractForm
    list_display = ["title", "region", "supplier", "start_date", "end_date", "kind", "tender"]
    list_filter = ["region", "kind", "registered_after_the_fact"]
    search_fields = ["title", "supplier__name", "supplier__identifier", "category__code"]
    raw_id_fields = ["supplier", "category", "tender"]
    readonly_fields = ["created_by", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("region", "supplier", "tender")

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return permissions.can_view_all_contracts(request.user)
        return permissions.can_view_contract(request.user, obj)

    def has_add_permission(self, request):
        # Contracts are registered on the registry's pages (suppliers.services).
        return False

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return permissions.is_secretariat(request.user)
        return permissions.is_secretariat(request.user) and permissions.can_edit_contract(
            request.user, obj
        )

    def has_delete_permission(self, request, obj=None):
        return permissions.is_secretariat(request.user)
