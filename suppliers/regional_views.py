"""Pages and actions of each region's contract after a joint award: award, sign, owner,
extension options, documents. The writes are suppliers/regional.py and documents.py."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rfi import permissions
from rfi.forms import apply_service_errors, form_errors
from suppliers import documents, regional, selectors, services
from suppliers.forms import AwardForm, DocumentForm, ExtensionForm, OwnerForm, SignForm
from suppliers.models import ContractDocument, ContractExtension
from suppliers.views import contract_page
from tenders.models import TenderCase

AWARD_FIELD_MAP = {"identifier": "supplier_identifier", "name": "supplier_name"}


def _visible_contract(request, pk: int):
    return get_object_or_404(selectors.contracts_visible_to(request.user), pk=pk)


def _editable_contract(request, pk: int):
    contract = _visible_contract(request, pk)
    if not permissions.can_edit_contract(request.user, contract):
        raise PermissionDenied
    return contract


def _back(request, contract):
    """Back to the page the form was on (the case page or the contract page)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("suppliers:detail", pk=contract.pk)


def _refused(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _form_refused(request, contract, name: str, form, error: ValidationError | None = None):
    """A form of the contract page that was not saved: the page again (400) with the form
    keeping what was typed and saying what is wrong, field by field, and the same at the
    top of the page. Sent from another page (``next``, the case page), back there with the
    errors in the message."""
    if error is not None:
        apply_service_errors(form, error)
    said = " ".join(form_errors(form))
    messages.error(request, _("Not saved. %(errors)s") % {"errors": said})
    if request.POST.get("next"):
        return _back(request, contract)
    return contract_page(request, contract, status=400, **{name: form})


@require_http_methods(["GET", "POST"])
@permissions.require(permissions.can_view_internal_pages)
def tender_award(request, reference: str):
    """Record the award of a joint case; the participating regions get their contracts."""
    tender = get_object_or_404(TenderCase, reference=reference)
    if not permissions.can_edit_tender(request.user, tender):
        raise PermissionDenied
    initial = {
        "award_date": tender.award_date,
        "contract_start": tender.contract_start,
        "contract_end": tender.contract_end,
    }
    form = AwardForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                supplier = services.supplier_upsert(
                    actor=request.user,
                    identifier=data["supplier_identifier"],
                    name=data["supplier_name"],
                )
                created = regional.tender_award(
                    tender=tender,
                    actor=request.user,
                    supplier=supplier,
                    award_date=data["award_date"],
                    contract_start=data["contract_start"],
                    contract_end=data["contract_end"],
                )
        except ValidationError as error:
            apply_service_errors(form, error, field_map=AWARD_FIELD_MAP)
        else:
            messages.success(
                request,
                _("The award is recorded; %(count)d regions have their own contract.")
                % {"count": len(created)},
            )
            return redirect("tenders:detail", reference=tender.reference)
    return render(request, "suppliers/award_form.html", {"tender": tender, "form": form})


@require_POST
@permissions.require(permissions.can_view_internal_pages)
def contract_sign(request, pk: int):
    contract = _editable_contract(request, pk)
    form = SignForm(request.POST, owners=regional.owner_choices(contract))
    if not form.is_valid():
        return _form_refused(request, contract, "sign_form", form)
    try:
        regional.contract_sign(
            contract=contract,
            actor=request.user,
            signed_on=form.cleaned_data["signed_on"],
            owner=form.cleaned_data["owner"],
        )
    except ValidationError as error:
        return _form_refused(request, contract, "sign_form", form, error)
    else:
        messages.success(
            request,
            _("%(region)s has signed its contract.") % {"region": contract.region.name},
        )
    return _back(request, contract)


@require_POST
@permissions.require(permissions.can_view_internal_pages)
def contract_owner(request, pk: int):
    contract = _editable_contract(request, pk)
    form = OwnerForm(request.POST, owners=regional.owner_choices(contract))
    if not form.is_valid():
        return _form_refused(request, contract, "owner_form", form)
    try:
        regional.contract_set_owner(
            contract=contract, actor=request.user, owner=form.cleaned_data["owner"]
        )
    except ValidationError as error:
        return _form_refused(request, contract, "owner_form", form, error)
    else:
        messages.success(request, _("The contract's owner is saved."))
    return _back(request, contract)


@require_POST
@permissions.require(permissions.can_view_internal_pages)
def extension_add(request, pk: int):
    contract = _editable_contract(request, pk)
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, contract, "extension_form", form)
    try:
        regional.extension_add(contract=contract, actor=request.user, **form.cleaned_data)
    except ValidationError as error:
        return _form_refused(request, contract, "extension_form", form, error)
    else:
        messages.success(request, _("The extension option is registered."))
    return _back(request, contract)


@require_POST
@permissions.require(permissions.can_view_internal_pages)
def extension_decide(request, pk: int, extension_pk: int):
    contract = _editable_contract(request, pk)
    extension = get_object_or_404(ContractExtension, pk=extension_pk, contract=contract)
    try:
        regional.extension_decide(
            extension=extension, actor=request.user, decision=request.POST.get("decision", "")
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The decision on the extension is saved."))
    return _back(request, contract)


@require_POST
@permissions.require(permissions.can_view_internal_pages)
def document_upload(request, pk: int):
    contract = _editable_contract(request, pk)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_refused(request, contract, "document_form", form)
    try:
        document = documents.contract_document_add(
            contract=contract,
            actor=request.user,
            upload=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
        )
    except ValidationError as error:
        return _form_refused(request, contract, "document_form", form, error)
    else:
        messages.success(request, _("“%(name)s” is uploaded.") % {"name": document.name})
    return _back(request, contract)


@permissions.require(permissions.can_view_internal_pages)
def document_download(request, pk: int, document_pk: int):
    """The file, to those who may read the contract (404 for another region's)."""
    contract = _visible_contract(request, pk)
    document = get_object_or_404(ContractDocument, pk=document_pk, contract=contract)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.name,
        content_type=documents.content_type(document),
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
