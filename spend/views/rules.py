"""The rule pages: mapping and exclusion rules and column mappings, and the re-map button.

One form view and one delete view serve the three kinds of rule (``RULE_KINDS``); the
writes go through the services in spend/rules.py, which check the rights again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from celery.result import EagerResult
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rfi import permissions
from rfi.models import Region
from rfi.tasks import BrokerUnavailable, enqueue
from spend import rules as rule_services
from spend import selectors, tasks
from spend.forms import ColumnMappingForm, ExclusionRuleForm, MappingRuleForm
from spend.models import ColumnMapping, ExclusionRule, MappingRule
from spend.scope import ALL, spend_scope
from spend.views.analysis import page_context


@dataclass(frozen=True)
class RuleKind:
    """What differs between the three kinds of rule on their pages."""

    model: type[models.Model]
    form_class: type
    save: Callable[..., models.Model]  # the service: save(*, actor, rule=None, **fields)
    url_prefix: str  # URL names: <prefix>_create, <prefix>_edit, <prefix>_delete
    new_title: Promise
    edit_title: Promise
    saved: Promise
    what: Promise


RULE_KINDS = {
    "mapping": RuleKind(
        MappingRule,
        MappingRuleForm,
        rule_services.mapping_rule_save,
        "spend:mapping_rule",
        gettext_lazy("New mapping rule"),
        gettext_lazy("Edit mapping rule"),
        gettext_lazy("Mapping rule saved."),
        gettext_lazy("Mapping rule"),
    ),
    "exclusion": RuleKind(
        ExclusionRule,
        ExclusionRuleForm,
        rule_services.exclusion_rule_save,
        "spend:exclusion_rule",
        gettext_lazy("New exclusion rule"),
        gettext_lazy("Edit exclusion rule"),
        gettext_lazy("Exclusion rule saved."),
        gettext_lazy("Exclusion rule"),
    ),
    "column": RuleKind(
        ColumnMapping,
        ColumnMappingForm,
        rule_services.column_mapping_save,
        "spend:column_mapping",
        gettext_lazy("New column mapping"),
        gettext_lazy("Edit column mapping"),
        gettext_lazy("Column mapping saved."),
        gettext_lazy("Column mapping"),
    ),
}

# The fields a link from the unmapped page may prefill (?region=RM&account_from=…).
PREFILL_FIELDS = (
    "kind",
    "priority",
    "account_from",
    "account_to",
    "cost_centre",
    "supplier_id",
    "category",
    "category_prefix",
    "reason",
    "source_header",
    "canonical",
)


def _rules_url(region: Region | None) -> str:
    url = reverse("spend:rules")
    return f"{url}?{urlencode({'region': region.code})}" if region else f"{url}?region={ALL}"


def _recompute_hint(request) -> None:
    messages.info(
        request,
        _("Press “Recompute mapping” to apply the rules to the lines already loaded."),
    )


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def rule_list(request):
    """The mapping and exclusion rules and column mappings that apply to a region."""
    scope = spend_scope(request)
    user = request.user
    region_ids = [scope.region.pk] if scope.region else None
    mapping = list(selectors.mapping_rules(region_ids=region_ids))
    exclusion = list(selectors.exclusion_rules(region_ids=region_ids))
    columns = list(selectors.column_mappings(region_ids=region_ids))
    for item in [*mapping, *exclusion, *columns]:
        item.editable = permissions.can_edit_spend_rules(user, item.region)
    context = page_context(
        request,
        scope,
        mapping_rules=mapping,
        exclusion_rules=exclusion,
        column_mappings=columns,
        can_remap=permissions.can_remap_spend(user, scope.region),
    )
    return render(request, "spend/rules.html", context)


def _initial_from_query(request) -> dict:
    """Prefill a new rule from the link on the unmapped page."""
    initial = {name: request.GET[name] for name in PREFILL_FIELDS if request.GET.get(name)}
    code = request.GET.get("region")
    if code:
        region = Region.objects.filter(code=code).first()
        if region is not None:
            initial["region"] = region.pk
    return initial


def _show_errors(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: by field where the form has it."""
    for name, field_messages in error.message_dict.items():
        field = name if name in form.fields else None
        for message in field_messages:
            form.add_error(field, message)


def _editable_rule(request, kind: RuleKind, pk: int):
    rule = get_object_or_404(kind.model.objects.select_related("region"), pk=pk)
    if not permissions.can_edit_spend_rules(request.user, rule.region):
        raise PermissionDenied
    return rule


@require_http_methods(["GET", "POST"])
@permissions.require(permissions.can_view_internal_pages)
def rule_form(request, kind: str, pk: int | None = None):
    """Write a new rule of a kind (no ``pk``) or change one; the service saves it."""
    rule_kind = RULE_KINDS[kind]
    data = request.POST if request.method == "POST" else None
    if pk is None:
        if not permissions.can_manage_spend_rules(request.user):
            raise PermissionDenied
        rule = None
        initial = _initial_from_query(request) if request.method == "GET" else None
        form = rule_kind.form_class(data, user=request.user, initial=initial)
    else:
        rule = _editable_rule(request, rule_kind, pk)
        form = rule_kind.form_class(data, instance=rule, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            saved = rule_kind.save(actor=request.user, rule=rule, **form.cleaned_data)
        except ValidationError as error:
            _show_errors(form, error)
        else:
            messages.success(request, str(rule_kind.saved))
            _recompute_hint(request)
            return redirect(_rules_url(saved.region))
    context = {
        "form": form,
        "title": rule_kind.edit_title if rule else rule_kind.new_title,
        "cancel_url": _rules_url(rule.region) if rule else reverse("spend:rules"),
        "delete_url": reverse(f"{rule_kind.url_prefix}_delete", kwargs={"pk": pk}) if rule else "",
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "spend/rule_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@permissions.require(permissions.can_view_internal_pages)
def rule_delete(request, kind: str, pk: int):
    """Ask, then delete a rule of a kind through the service."""
    rule_kind = RULE_KINDS[kind]
    rule = _editable_rule(request, rule_kind, pk)
    region = rule.region
    if request.method == "POST":
        rule_services.rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("%(what)s deleted.") % {"what": rule_kind.what})
        _recompute_hint(request)
        return redirect(_rules_url(region))
    context = {"object": rule, "what": rule_kind.what, "cancel_url": _rules_url(region)}
    return render(request, "spend/rule_delete.html", context)


@require_POST
@permissions.require(permissions.can_manage_spend_rules)
def remap(request):
    """Re-apply the rules to the lines already loaded: a task per region (inline when eager)."""
    code = (request.POST.get("region") or "").strip()
    if code == ALL:
        if not permissions.can_remap_spend(request.user, None):
            raise PermissionDenied
        targets = list(
            Region.objects.filter(import_batches__is_current=True).distinct().order_by("code")
        )
        back = None
    else:
        back = get_object_or_404(Region, code=code)
        if not permissions.can_remap_spend(request.user, back):
            raise PermissionDenied
        targets = [back]
    try:
        results = [enqueue(tasks.remap_region, region.pk) for region in targets]
    except BrokerUnavailable:
        messages.error(
            request,
            _("The task queue cannot be reached, so nothing was recomputed. Try again later."),
        )
        return redirect(_rules_url(back))
    names = ", ".join(region.code for region in targets) or "–"
    if all(isinstance(result, EagerResult) for result in results):
        messages.success(
            request, _("The mapping has been recomputed (%(regions)s).") % {"regions": names}
        )
    else:
        messages.success(
            request,
            _(
                "Recomputing the mapping (%(regions)s) has started; the pages show the new "
                "figures in a few minutes."
            )
            % {"regions": names},
        )
    return redirect(_rules_url(back))
