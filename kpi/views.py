"""The KPI dashboards: the chief's (one region), the collaboration's, the monthly report,
the .xlsx export, and two drill-downs of our own (compliance leaks, the top-100 suppliers'
e-orders); the other figures drill into the spend and tender pages.

Each view reads the request, asks kpi/dashboard.py for the page's view model and renders
it; the export hands the same models to kpi/excel.py.

Rights (rfi.permissions): a region's own people see its cards and drill-downs; chiefs, the
UFO group and the secretariat see every region's cards, the regions side by side and the
collaboration dashboard. Drill-downs to ledger lines follow the spend pages' rule (a
region's own people and the secretariat), so a chief sees another region's figures but
not its lines. The dashboards read stored snapshots only (kpi.selectors).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kpi import dashboard, excel
from kpi.forms import DashboardForm, ReportForm
from rfi import permissions

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope(request, form_class=DashboardForm) -> dashboard.Scope:
    """The page's region and year; what was wrong in the query is shown as messages."""
    scope = dashboard.dashboard_scope(request.user, request.GET, form_class=form_class)
    _show_errors(request, scope.errors)
    return scope


def _show_errors(request, errors: list[str]) -> None:
    for error in errors:
        messages.error(request, error)


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def index(request):
    """The chief's dashboard: every KPI of one region for one year, as cards with trends."""
    page = dashboard.region_dashboard(request.user, _scope(request))
    return render(request, "kpi/index.html", page.context())


@require_GET
@permissions.require(permissions.can_view_collaboration_kpis)
def collaboration(request):
    """The collaboration dashboard (chiefs, the UFO group, the secretariat)."""
    page = dashboard.collaboration_page(request.GET)
    _show_errors(request, page.errors)
    return render(request, "kpi/collaboration.html", page.context())


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def export(request):
    """The dashboard as .xlsx: the region's cards, its months, and for those who may see
    them the regions side by side and the collaboration, targets beside values."""
    scope = _scope(request)
    content = excel.dashboard_xlsx(
        region=dashboard.region_dashboard(request.user, scope),
        collaboration=dashboard.collaboration_for(request.user, scope.year),
    )
    response = HttpResponse(content, content_type=XLSX)
    filename = f"kpi-{scope.region.code}-{scope.year}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def report(request):
    """The printable monthly report to management: one region, one month and the year so far."""
    page = dashboard.monthly_report(request.user, _scope(request, form_class=ReportForm))
    return render(request, "kpi/report.html", page.context())


# Drill-downs of our own ---------------------------------------------------------------------


def _drill_scope(request) -> dashboard.Scope:
    scope = _scope(request)
    if not permissions.can_view_region_spend(request.user, scope.region):
        raise PermissionDenied
    return scope


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def compliance(request):
    """Where compliance leaks: spend in covered categories bought without a covering contract."""
    page = dashboard.compliance_drill_down(request.user, _drill_scope(request))
    return render(request, "kpi/compliance.html", page.context())


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def digital_orders(request):
    """The region's 100 suppliers with most transactions, with their e-order share."""
    page = dashboard.digital_orders_drill_down(request.user, _drill_scope(request))
    return render(request, "kpi/digital_orders.html", page.context())
