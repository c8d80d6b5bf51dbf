"""Forms of the spend pages: mapping and exclusion rules, column mappings.

The forms offer the regions the user may write and parse the fields; the services in
spend/rules.py check the rights and the rule as a whole when the view saves it.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rfi import permissions
from rfi.cpv import category_by_code
from rfi.forms import check_with_service
from rfi.models import Region
from spend import rules
from spend.importer.columns import CANONICAL
from spend.models import ColumnMapping, ExclusionRule, MappingRule

COLUMN_LABELS = {
    "posting_date": _("Posting date"),
    "voucher_no": _("Voucher number"),
    "invoice_no": _("Invoice number"),
    "supplier_id": _("Supplier id"),
    "supplier_name": _("Supplier name"),
    "account": _("Account"),
    "cost_centre": _("Cost centre"),
    "amount": _("Amount"),
    "description": _("Text"),
    "order_channel": _("Ordering channel"),
    "category_code": _("Category code (CPV)"),
    "region": _("Region"),
}


def editable_regions(user) -> list[Region]:
    """The regions whose rules the user may write."""
    return permissions.regions_where(user, permissions.can_edit_spend_rules)


class _RegionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.code} – {obj.name}"


class _RuleForm(forms.ModelForm):
    """Region choices limited to what the user may edit; blank means every region."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = editable_regions(user)
        field = self.fields["region"] = _RegionField(
            label=_("Region"),
            queryset=Region.objects.filter(pk__in=[r.pk for r in allowed]),
            required=not permissions.is_secretariat(user),
            empty_label=_("All regions (a common rule)"),
        )
        if self.instance.pk is None and len(allowed) == 1 and not self.initial.get("region"):
            field.initial = allowed[0].pk
        if not permissions.is_secretariat(user):
            field.help_text = _("Common rules for every region are kept by the secretariat.")

    # The service's check of the rule as a whole, and the fields it reads.
    rule_check = None
    rule_text_fields: tuple[str, ...] = ()

    def clean(self):
        data = super().clean()
        if self.rule_check is not None and data.get("kind"):
            values = {name: data.get(name) or "" for name in self.rule_text_fields}
            # The rule as a whole (range in order, what its kind needs) in the same round
            # as the fields' own errors.
            check_with_service(self, lambda: type(self).rule_check(values))
        return data


class MappingRuleForm(_RuleForm):
    category = forms.CharField(
        label=_("CPV category"),
        max_length=10,
        help_text=_("The CPV code the lines are mapped to, e.g. 33141000 or 33141000-0."),
    )

    rule_check = rules.clean_mapping_rule
    rule_text_fields = ("kind", "account_from", "account_to", "cost_centre", "supplier_id")

    class Meta:
        model = MappingRule
        fields = list(rules.MAPPING_RULE_FIELDS)
        help_texts = {
            "account_to": _("Leave empty for a single account. Digits compare as numbers."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.category_id and not self.is_bound:
            self.initial["category"] = self.instance.category.code

    def clean_category(self):
        return category_by_code(self.cleaned_data["category"])


class ExclusionRuleForm(_RuleForm):
    rule_check = rules.clean_exclusion_rule
    rule_text_fields = ("kind", "account_from", "account_to", "category_prefix", "reason")

    class Meta:
        model = ExclusionRule
        fields = list(rules.EXCLUSION_RULE_FIELDS)
        help_texts = {
            "account_to": _("Leave empty for a single account. Digits compare as numbers."),
            "category_prefix": _(
                "The first digits of the CPV codes to exclude, e.g. 336 for pharmaceuticals "
                "(the mapped category counts)."
            ),
        }


class ColumnMappingForm(forms.ModelForm):
    canonical = forms.ChoiceField(label=_("Column"), choices=())

    class Meta:
        model = ColumnMapping
        fields = ["region", "source_header", "canonical"]
        help_texts = {
            "source_header": _("The header exactly as the region's export writes it."),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = editable_regions(user)
        self.fields["region"] = _RegionField(
            label=_("Region"), queryset=Region.objects.filter(pk__in=[r.pk for r in allowed])
        )
        if self.instance.pk is None and len(allowed) == 1 and not self.initial.get("region"):
            self.fields["region"].initial = allowed[0].pk
        self.fields["canonical"].choices = [
            (name, f"{COLUMN_LABELS.get(name, name)} ({name})") for name in CANONICAL
        ]
