"""The savings reports (chart, table, .xlsx) and the regions' savings plans against realised."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rfi import permissions
from rfi.forms import apply_service_errors
from rfi.models import Region
from rfi.spreadsheet.write import XLSX_TYPE
from tenders import excel, savings, savings_reports, services
from tenders.savings_excel import savings_report_xlsx
from tenders.ufo.forms import SavingsPlanForm


def _year(request) -> int:
    today = timezone.localdate()
    raw = request.GET.get("year", "")
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return today.year


def _strategy_start(year: int) -> int | None:
    # A view may read a higher app's selector (docs/architecture.md, import chain).
    from kpi.selectors import strategy_for_year

    strategy = strategy_for_year(year)
    return strategy.start_year if strategy else None


def _report(slug: str, year: int) -> savings_reports.Report:
    if slug not in savings_reports.REPORTS:
        raise Http404
    return savings_reports.report_for(slug, year, strategy_start=_strategy_start(year))


def _year_choices(year: int) -> list[int]:
    today = timezone.localdate().year
    return list(range(max(today, year) + 1, min(today, year) - 10, -1))


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def savings_report(request, slug: str):
    year = _year(request)
    report = _report(slug, year)
    for row in report.rows:
        if report.slug == "price-reduction" and row.url:
            row.url = reverse("tenders:savings", kwargs={"reference": row.url})
    context = {
        "report": report,
        "year": year,
        "years": _year_choices(year),
        "charts": {"report": report.chart},
        "export_url": reverse("tenders:savings_report_export", kwargs={"slug": slug})
        + f"?year={year}",
    }
    return render(request, "tenders/savings_report.html", context)


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def savings_report_export(request, slug: str):
    year = _year(request)
    report = _report(slug, year)
    response = HttpResponse(savings_report_xlsx(report), content_type=XLSX_TYPE)
    filename = excel.export_filename(f"besparelser-{slug}-{year}")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@permissions.require(permissions.can_view_internal_pages)
def savings_plan(request):
    """Each region's savings plan for a year (owner, forecast) beside its realised savings."""
    year = _year(request)
    allowed = permissions.regions_where(request.user, permissions.can_edit_savings_plan)
    form = None
    if request.method == "POST":
        posted_pk = request.POST.get("region", "")
        posted = Region.objects.filter(pk=posted_pk).first() if posted_pk.isdigit() else None
        if not allowed or (
            posted is not None and not permissions.can_edit_savings_plan(request.user, posted)
        ):
            raise PermissionDenied
        form = SavingsPlanForm(request.POST, regions=allowed, year=year)
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = services.savings_plan_set(actor=request.user, **data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The savings plan of %(region)s for %(year)s has been saved.")
                    % {"region": plan.region.name, "year": plan.year},
                )
                return redirect(reverse("tenders:savings_plan") + f"?year={plan.year}")
    elif allowed:
        form = SavingsPlanForm(regions=allowed, year=year)
    rows = savings_reports.plan_against_realised(year)
    chart = {
        "kind": "bar",
        "title": _("Savings plan against realised, %(year)s") % {"year": year},
        "unit": "kr.",
        "labels": [row.region.code for row in rows],
        "series": [
            {
                "label": _("Forecast"),
                "values": [float(row.plan.forecast) if row.plan else None for row in rows],
            },
            {
                "label": _("Realised"),
                "values": [None if row.realised is None else float(row.realised) for row in rows],
            },
        ],
    }
    context = {
        "rows": rows,
        "year": year,
        "years": _year_choices(year),
        "form": form,
        "charts": {"plan": chart},
        "method": savings.realisation_method_text(),
    }
    return render(request, "tenders/savings_plan.html", context)
