"""The contract registry in the browser: list, contract pages, forms, pipeline, import."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from rfi import permissions
from rfi.forms import apply_service_errors
from suppliers import importer, regional, selectors, services
from suppliers.forms import (
    FIELD_MAP,
    ContractForm,
    DocumentForm,
    ExtensionForm,
    ImportForm,
    OwnerForm,
    SignForm,
)
from suppliers.models import Contract

PAGE_SIZE = 50
ERRORS_SHOWN = 1000
SORTABLE_COLUMNS = ("region", "title", "supplier", "start", "end", "value")


def _render(request, template: str, context: dict, status: int = 200):
    """Render with what the registry's sub-navigation asks."""
    context["can_register_contract"] = permissions.can_register_contract(request.user)
    return render(request, template, context, status=status)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _visible_contract(request, pk: int) -> Contract:
    """The contract, or 404 when it does not exist or belongs to a region the user cannot read."""
    return get_object_or_404(selectors.contracts_visible_to(request.user), pk=pk)


def _sort_links(request) -> dict[str, dict]:
    current = request.GET.get("ordering", "")
    links = {}
    for key in SORTABLE_COLUMNS:
        if current == key:
            next_key, sort = f"-{key}", "ascending"
        elif current == f"-{key}":
            next_key, sort = key, "descending"
        else:
            next_key, sort = key, ""
        query = request.GET.copy()
        query.pop("page", None)
        query["ordering"] = next_key
        links[key] = {"url": f"?{query.urlencode()}", "sort": sort}
    return links


# The list ------------------------------------------------------------------------------------


@permissions.require(permissions.can_view_internal_pages)
def index(request):
    contract_filter = selectors.ContractFilter(
        request.GET or None, queryset=selectors.contracts_visible_to(request.user)
    )
    contracts = contract_filter.qs
    if not request.GET.get("ordering"):
        contracts = contracts.order_by("region__code", "ends_on", "title")
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": contract_filter,
        "page": page,
        "regions": selectors.regions_visible_to(request.user),
        "kinds": Contract.Kind.choices,
        "sort": _sort_links(request),
        "sees_all": selectors.visible_region_ids(request.user) is None,
        "can_register": permissions.can_register_contract(request.user),
        "can_import": permissions.can_import_contracts(request.user),
        "today": contract_filter.today,
    }
    return _render(request, "suppliers/index.html", context)


# One contract --------------------------------------------------------------------------------


@permissions.require(permissions.can_view_internal_pages)
def detail(request, pk: int):
    return contract_page(request, _visible_contract(request, pk))


def contract_page(request, contract: Contract, *, status: int = 200, **bound_forms):
    """The contract page; ``bound_forms`` (by context name, e.g. ``sign_form``) stand in
    for the empty forms, so a refused form shows its errors and keeps what was typed."""
    can_edit = permissions.can_edit_contract(request.user, contract)
    context = {
        "contract": contract,
        "history": selectors.contract_history(contract),
        "can_edit": can_edit,
        "unsigned_too_long": regional.unsigned_too_long(contract, timezone.localdate()),
        "extensions": contract.extensions.select_related("decided_by"),
        "documents": contract.documents.select_related("uploaded_by"),
    }
    if can_edit:
        owners = regional.owner_choices(contract)
        context.update(
            sign_form=SignForm(owners=owners, initial={"owner": contract.owner_id or None}),
            owner_form=OwnerForm(owners=owners, initial={"owner": contract.owner_id}),
            extension_form=ExtensionForm(),
            document_form=DocumentForm(),
        )
        context.update(bound_forms)
    return _render(request, "suppliers/detail.html", context, status=status)


def _category_label(request):
    """htmx: the label of the CPV code typed so far."""
    field = ContractForm.base_fields["category"]
    try:
        category = field.clean(request.GET.get("category", ""))
        error = None
    except ValidationError as exc:
        category, error = None, " ".join(exc.messages)
    return render(
        request, "tenders/_category_label.html", {"category": category, "category_error": error}
    )


def _save(form: ContractForm, actor, contract: Contract | None) -> Contract | None:
    """Upsert the supplier and save the contract together; on refusal, errors on the form."""
    try:
        with transaction.atomic():
            supplier = services.supplier_upsert(actor=actor, **form.supplier_fields())
            fields = {**form.contract_fields(), "supplier": supplier}
            if contract is None:
                return services.contract_create(actor=actor, **fields)
            return services.contract_update(contract=contract, actor=actor, **fields)
    except ValidationError as error:
        apply_service_errors(form, error, field_map=FIELD_MAP)
    except PermissionDenied as error:
        form.add_error("region", str(error))
    return None


@require_http_methods(["GET", "POST"])
@permissions.require(permissions.can_register_contract)
def create(request):
    if _is_htmx(request) and "category" in request.GET:
        return _category_label(request)
    form = ContractForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        contract = _save(form, request.user, None)
        if contract is not None:
            messages.success(
                request,
                _("The contract “%(title)s” has been registered.") % {"title": contract.title},
            )
            return redirect("suppliers:detail", pk=contract.pk)
    return _render(request, "suppliers/contract_form.html", {"form": form, "contract": None})


@require_http_methods(["GET", "POST"])
@permissions.require(permissions.can_view_internal_pages)
def edit(request, pk: int):
    contract = _visible_contract(request, pk)
    if not permissions.can_edit_contract(request.user, contract):
        raise PermissionDenied
    if _is_htmx(request) and "category" in request.GET:
        return _category_label(request)
    form = ContractForm(request.POST or None, user=request.user, contract=contract)
    if request.method == "POST" and form.is_valid():
        # The service changes its own copy, so a refused change leaves the heading as it was.
        saved = _save(form, request.user, _visible_contract(request, pk))
        if saved is not None:
            messages.success(
                request, _("The contract “%(title)s” has been saved.") % {"title": saved.title}
            )
            return redirect("suppliers:detail", pk=pk)
    return _render(request, "suppliers/contract_form.html", {"form": form, "contract": contract})


@require_http_methods(["GET", "POST"])
@permissions.require(permissions.can_view_internal_pages)
def delete(request, pk: int):
    contract = _visible_contract(request, pk)
    if not permissions.can_edit_contract(request.user, contract):
        raise PermissionDenied
    if request.method == "POST":
        title = contract.title
        services.contract_delete(contract=contract, actor=request.user)
        messages.success(
            request, _("The contract “%(title)s” has been deleted.") % {"title": title}
        )
        return redirect("suppliers:index")
    return _render(request, "suppliers/contract_delete.html", {"contract": contract})


# The pipeline --------------------------------------------------------------------------------


@permissions.require(permissions.can_view_internal_pages)
def pipeline(request):
    user = request.user
    result = selectors.contract_pipeline(contracts=selectors.contracts_visible_to(user))
    rows = {row.key: row for row in result.by_region}
    by_region = [
        rows.get(region.code) or selectors.PipelineRow(region.code, region.name)
        for region in selectors.regions_visible_to(user)
    ]
    can_propose = permissions.can_propose_candidate(user)
    candidates = [
        {
            "candidate": candidate,
            "propose_query": urlencode(
                {"category": candidate.group_code, "title": candidate.proposal_title}
            ),
        }
        for candidate in selectors.joint_tender_candidates(user=user, today=result.today)
    ]
    context = {
        "pipeline": result,
        "by_region": by_region,
        "by_category": result.by_category,
        "candidates": candidates,
        "can_propose": can_propose,
        "sees_all": selectors.visible_region_ids(user) is None,
    }
    return _render(request, "suppliers/pipeline.html", context)


# Import --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permissions.require(permissions.can_import_contracts)
def contract_import(request):
    """Upload contracts; every row is checked first and nothing is saved unless all are valid."""
    regions = selectors.regions_registrable_by(request.user)
    if request.method == "GET":
        return _render(request, "suppliers/import.html", {"form": ImportForm(), "regions": regions})
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(
            request, "suppliers/import.html", {"form": form, "regions": regions}, status=400
        )
    upload = form.cleaned_data["file"]
    result = importer.contracts_import(upload.read(), upload.name, request.user)
    summary = ngettext(
        "%(created)d contract registered, %(updated)d updated, %(unchanged)d unchanged",
        "%(created)d contracts registered, %(updated)d updated, %(unchanged)d unchanged",
        result.created,
    ) % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    context = {
        "form": ImportForm(),
        "regions": regions,
        "result": result,
        "filename": upload.name,
        "summary": summary,
        "errors": result.errors[:ERRORS_SHOWN],
        "errors_hidden": max(len(result.errors) - ERRORS_SHOWN, 0),
    }
    return _render(
        request, "suppliers/import_result.html", context, status=200 if result.ok else 422
    )
