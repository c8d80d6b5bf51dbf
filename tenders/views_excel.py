"""Excel in and out of the plan: the filtered export, the status report, the import page."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from rfi import permissions
from rfi.spreadsheet.write import XLSX_TYPE
from tenders import excel, selectors
from tenders.excel.importer import PLAN_MAX_UPLOAD_BYTES
from tenders.views import StatusAsOfForm

ERRORS_SHOWN = 1000


def _xlsx_response(content: bytes, stem: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{excel.export_filename(stem)}"'
    return response


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def plan_export(request):
    """Exactly the cases the overview shows for the same filters (all pages)."""
    tender_filter = selectors.TenderFilter(request.GET or None, queryset=selectors.tender_list())
    return _xlsx_response(excel.plan_export(tender_filter.qs), "fup-udbudsplan")


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def status_report_export(request):
    # the page's date (?as_of=YYYY-MM-DD); the plan sheet is today's plan either way
    form = StatusAsOfForm(request.GET or None)
    as_of = form.cleaned_data["as_of"] if form.is_bound and form.is_valid() else None
    return _xlsx_response(excel.status_report_export(as_of=as_of), "fup-statusrapport")


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Plan file (.xlsx or .csv)"),
        help_text=_("In the layout of the export; Danish or English column headers."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > PLAN_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Upload an .xlsx or .csv file."))
        return upload


@require_http_methods(["GET", "POST"])
@permissions.require(permissions.can_import_plan)
def plan_import(request):
    """Upload the plan; every row is checked first and nothing is saved unless all are valid."""
    if request.method == "GET":
        return render(request, "tenders/import.html", {"form": ImportForm()})
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "tenders/import.html", {"form": form}, status=400)
    upload = form.cleaned_data["file"]
    result = excel.plan_import(upload.read(), upload.name, request.user)
    summary = ngettext(
        "%(created)d tender case created, %(updated)d updated",
        "%(created)d tender cases created, %(updated)d updated",
        result.created,
    ) % {"created": result.created, "updated": result.updated}
    context = {
        "form": ImportForm(),
        "result": result,
        "filename": upload.name,
        "summary": summary,
        "errors": result.errors[:ERRORS_SHOWN],
        "errors_hidden": max(len(result.errors) - ERRORS_SHOWN, 0),
    }
    return render(request, "tenders/import_result.html", context, status=200 if result.ok else 422)
