"""Ledger-extract uploads in the browser: the form, the batches, a batch's progress and report.

Rights (rfi.permissions): a region's officers (and the secretariat) upload its extracts;
whoever may see a region's lines sees its batches, files and error reports. Another
region's batch answers 404, as if it did not exist.
"""

from __future__ import annotations

import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rfi import permissions
from rfi.forms import DateInput
from rfi.models import Region
from rfi.spreadsheet import write
from spend.importer import pipeline, template
from spend.importer.columns import column_guide
from spend.importer.errors import ImportRefused
from spend.importer.preview import ReplacementPreview
from spend.importer.upload import LedgerUploadLimit
from spend.models import ImportBatch
from spend.scope import spend_scope
from spend.selectors import ledger_batches_visible_to

BATCHES_SHOWN = 100
ACTIVE = (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)


class LedgerUploadForm(forms.Form):
    """The upload form. (Here rather than spend/forms.py: that module has another owner.)"""

    region = forms.ModelChoiceField(
        label=gettext_lazy("Region"),
        queryset=Region.objects.none(),
        to_field_name="code",
        empty_label=None,
    )
    period_start = forms.DateField(
        label=gettext_lazy("Period from (optional)"),
        required=False,
        widget=DateInput(),
    )
    period_end = forms.DateField(
        label=gettext_lazy("Period to (optional)"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy(
            "Leave both empty to take the whole months the lines fall in. Lines already "
            "imported for the period are replaced by the new file: before anything is "
            "deleted you see what would be replaced, month by month, and confirm or cancel."
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("Ledger extract"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.gz,.xlsx"}),
    )

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        self.fields["file"].help_text = _(
            ".csv (; , or tab separated, also gzip-compressed .csv.gz) or .xlsx, at most "
            "%(limit)s. Every row is checked; nothing is imported unless every row is valid."
        ) % {"limit": filesizeformat(settings.LEDGER_MAX_UPLOAD_BYTES)}


def _uploadable_regions(user):
    ids = [region.pk for region in permissions.regions_where(user, permissions.can_upload_ledger)]
    return Region.objects.filter(pk__in=ids).order_by("code")


def _batches(request, scope):
    batches = ledger_batches_visible_to(request.user)
    if scope.region is not None:
        batches = batches.filter(region=scope.region)
    return list(batches.order_by("-uploaded_at", "-pk")[:BATCHES_SHOWN])


def _page(request, scope, form, *, status: int = 200, refusal: str = ""):
    context = {
        "scope": scope,
        "form": form,
        "refusal": refusal,
        "batches": _batches(request, scope),
        "batches_shown": BATCHES_SHOWN,
        "columns": column_guide(),
    }
    return render(request, "spend/upload.html", context, status=status)


def _initial_region(request, scope, regions):
    if scope.region is not None and scope.region in regions:
        return scope.region
    return regions.first()


@csrf_exempt  # the upload limit must be installed before CSRF reads the body: csrf_protect below
@require_http_methods(["GET", "POST"])
@permissions.require(permissions.can_view_internal_pages)
def upload(request):
    """Upload form and the batches of the regions the user sees (``?region=CODE``)."""
    if request.method == "POST":
        request.upload_handlers.insert(0, LedgerUploadLimit(request))
        return _upload_post(request)
    return _upload_get(request)


@csrf_protect
def _upload_get(request):
    scope = spend_scope(request)
    regions = _uploadable_regions(request.user)
    form = None
    if regions.exists():
        form = LedgerUploadForm(
            regions=regions, initial={"region": _initial_region(request, scope, regions)}
        )
    return _page(request, scope, form)


@csrf_protect
def _upload_post(request):
    scope = spend_scope(request)
    regions = _uploadable_regions(request.user)
    code = request.POST.get("region", "")
    chosen = Region.objects.filter(code=code).first()
    if chosen is not None and not permissions.can_upload_ledger(request.user, chosen):
        raise PermissionDenied
    if not regions.exists():
        raise PermissionDenied
    form = LedgerUploadForm(request.POST, request.FILES, regions=regions)
    if getattr(request, "ledger_upload_too_large", False):
        refusal = _("The file is larger than the limit of %(limit)s; nothing was saved.") % {
            "limit": filesizeformat(settings.LEDGER_MAX_UPLOAD_BYTES)
        }
        form.is_valid()
        form.errors.pop("file", None)
        return _page(request, scope, form, status=413, refusal=refusal)
    if not form.is_valid():
        return _page(request, scope, form, status=400)
    data = form.cleaned_data
    try:
        result = pipeline.ledger_upload(
            region=data["region"],
            uploaded_file=data["file"],
            actor=request.user,
            source=ImportBatch.Source.UPLOAD,
            period_start=data["period_start"],
            period_end=data["period_end"],
        )
    except ImportRefused as refused:
        return _page(request, scope, form, status=422, refusal=str(refused.message))
    batch = result.batch
    batch.refresh_from_db()  # in eager mode (no broker) the import has already run
    if result.queue_unreachable:
        messages.warning(
            request, _("The file is saved, but the task queue cannot be reached just now.")
        )
    elif batch.status in ACTIVE:
        messages.success(
            request,
            _("“%(file)s” was received. You may leave this page; the import goes on.")
            % {"file": batch.file_name},
        )
    return redirect("spend:batch", pk=batch.pk)


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def upload_template(request, fmt: str):
    """The upload template: the columns in Danish and one example line (.xlsx or .csv)."""
    if fmt == "xlsx":
        content, content_type = template.template_xlsx(), write.XLSX_TYPE
    elif fmt == "csv":
        content, content_type = template.template_csv(), "text/csv; charset=utf-8"
    else:
        raise Http404
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="bogfoering-skabelon.{fmt}"'
    return response


def _visible_batch(request, pk: int) -> ImportBatch:
    batch = get_object_or_404(ImportBatch.objects.select_related("region", "uploaded_by"), pk=pk)
    if not permissions.can_view_region_spend(request.user, batch.region):
        raise Http404
    return batch


def _progress_context(batch: ImportBatch, user=None) -> dict:
    preview = ReplacementPreview.from_json(batch.replace_preview)
    awaiting = batch.status == ImportBatch.Status.AWAITING
    return {
        "batch": batch,
        "active": batch.status in ACTIVE,
        "preview": preview if awaiting else None,
        "confirm_label": preview.confirm_label() if awaiting and preview else "",
        "may_confirm": awaiting
        and user is not None
        and permissions.can_upload_ledger(user, batch.region),
    }


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def batch(request, pk: int):
    """One batch: its record, a live progress bar while it runs, and its error report."""
    batch = _visible_batch(request, pk)
    errors = batch.errors or []
    # A refusal of the whole file (one reason, no row) is said once: as the message.
    whole_file = (
        len(errors) == 1 and not errors[0].get("row") and errors[0].get("reason") == batch.message
    )
    context = {
        **_progress_context(batch, request.user),
        "scope": spend_scope(request, {"region": batch.region.code}),
        "message_in_report": whole_file,
        "errors": batch.errors,
        "errors_hidden": max(batch.error_count - len(batch.errors), 0),
    }
    return render(request, "spend/batch.html", context)


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def batch_status(request, pk: int):
    """The progress partial the batch page polls (htmx); a full reload once it is finished."""
    batch = _visible_batch(request, pk)
    response = render(request, "spend/_progress.html", _progress_context(batch, request.user))
    if request.headers.get("HX-Request") and batch.status not in ACTIVE:
        # The page was rendered while the import ran: reload it for the result and report.
        response["HX-Refresh"] = "true"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@permissions.require(permissions.can_view_internal_pages)
def batch_confirm(request, pk: int):
    """Confirm the replacement the preview shows: the import runs again and switches in."""
    batch = _visible_batch(request, pk)
    try:
        result = pipeline.ledger_batch_confirm(batch=batch, actor=request.user)
    except ImportRefused as refused:
        messages.error(request, str(refused.message))
        return redirect("spend:batch", pk=batch.pk)
    if result.queue_unreachable:
        messages.warning(
            request, _("The file is saved, but the task queue cannot be reached just now.")
        )
    return redirect("spend:batch", pk=batch.pk)


@require_POST
@permissions.require(permissions.can_view_internal_pages)
def batch_cancel(request, pk: int):
    """Cancel an upload that waits for a confirmation: nothing is imported."""
    batch = _visible_batch(request, pk)
    try:
        pipeline.ledger_batch_cancel(batch=batch, actor=request.user)
    except ImportRefused as refused:
        messages.error(request, str(refused.message))
        return redirect("spend:batch", pk=batch.pk)
    messages.success(request, _("The upload was cancelled; the stored lines are unchanged."))
    return redirect("spend:batch", pk=batch.pk)


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def batch_errors(request, pk: int):
    """Every error of a refused batch as CSV (``;``, UTF-8 with BOM: opens in a Danish Excel)."""
    batch = _visible_batch(request, pk)
    stem = batch.file_name.rsplit(".", 1)[0] if "." in batch.file_name else batch.file_name
    filename = f"{stem}-fejl.csv"
    if batch.errors_file:
        return FileResponse(
            batch.errors_file.open("rb"),
            as_attachment=True,
            filename=filename,
            content_type="text/csv; charset=utf-8",
        )
    if not batch.errors:
        raise Http404
    # A refusal of the whole file (one reason, no row) has no stored report: write it here.
    buffer = io.StringIO()
    writer = write.CsvWriter(buffer, delimiter=";")
    writer.writerow(("row", "column", "value", "reason"))
    for error in batch.errors:
        writer.writerow(
            (error.get("row") or "", error.get("column"), error.get("value"), error["reason"])
        )
    response = HttpResponse(
        buffer.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_ascii(filename)}"'
    return response


def _ascii(name: str) -> str:
    return name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def batch_file(request, pk: int):
    """The original file as it was uploaded (kept for re-processing and as the record)."""
    batch = _visible_batch(request, pk)
    if not batch.file:
        raise Http404
    try:
        handle = batch.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    return FileResponse(
        handle,
        as_attachment=True,
        filename=batch.file_name,
        content_type="application/octet-stream",
    )
