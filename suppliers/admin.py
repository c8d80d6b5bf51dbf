"""Admin for the supplier register and the contract registry; rights from rfi.permissions.

Officers register contracts on the registry's pages; the admin is the secretariat's
tool for looking into contracts with their full history, and for the suppliers'
SME flag, which no import carries. Extension options, their reminders and the
contracts' documents are written by the registry's pages (suppliers.regional,
suppliers.documents) with their rules; here they are read, and deleted by the secretariat.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from rfi import permissions
from suppliers import services
from suppliers.models import (
    Contract,
    ContractDocument,
    ContractExtension,
    ExtensionReminder,
    Supplier,
)


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


class ContractPartAdmin(admin.ModelAdmin):
    """A part of a contract, read by whoever may read the contract; only deleted here."""

    def contract_of(self, obj) -> Contract:
        return obj.contract

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return permissions.can_view_all_contracts(request.user)
        return permissions.can_view_contract(request.user, self.contract_of(obj))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return permissions.is_secretariat(request.user)


@admin.register(ContractExtension)
class ContractExtensionAdmin(ContractPartAdmin, SimpleHistoryAdmin):
    list_display = ["contract", "extends_to", "notice_deadline", "decision", "decided_by"]
    list_filter = ["decision", "contract__region"]
    search_fields = ["contract__title", "contract__supplier__name"]
    date_hierarchy = "notice_deadline"
    list_select_related = ["contract", "decided_by"]


@admin.register(ExtensionReminder)
class ExtensionReminderAdmin(ContractPartAdmin):
    list_display = ["extension", "notice_deadline", "days_before", "sent_at", "recipients"]
    list_filter = ["days_before", "extension__contract__region"]
    search_fields = ["extension__contract__title"]
    list_select_related = ["extension__contract"]

    def contract_of(self, obj) -> Contract:
        return obj.extension.contract


@admin.register(ContractDocument)
class ContractDocumentAdmin(ContractPartAdmin):
    # The file itself only through the registry's download, which checks the reader's rights.
    fields = ["contract", "kind", "name", "size", "uploaded_by", "uploaded_at", "download"]
    list_display = ["name", "contract", "kind", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["kind", "contract__region"]
    search_fields = ["name", "contract__title", "contract__supplier__name"]
    list_select_related = ["contract", "uploaded_by"]

    @admin.display(description=_("file"))
    def download(self, obj) -> str:
        url = reverse("suppliers:document_download", args=[obj.contract_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.name)
