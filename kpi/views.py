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
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kpi import dashboard, excel, services
from kpi.forms import ActivityUpdateForm, DashboardForm, ReportForm, StrategyCopyForm
from kpi.models import StrategyActivity
from rfi import permissions
from rfi.forms import apply_service_errors, form_errors

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


# Strategies and the action plan -------------------------------------------------------------


@require_GET
@permissions.require(permissions.can_view_strategies)
def strategies(request):
    """Every strategy with its period, baseline year and targets; which one is in force."""
    page = dashboard.strategies_page(request.user)
    return render(request, "kpi/strategies.html", page.context())


@require_http_methods(["GET", "POST"])
@permissions.require(permissions.can_manage_strategies)
def strategy_create(request):
    """The secretariat enters a new strategy, starting from a copy of an earlier one."""
    if request.method == "POST":
        form = StrategyCopyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                strategy = services.strategy_copy(
                    source=data["source"],
                    name=data["name"],
                    code=data["code"],
                    start_year=data["start_year"],
                    end_year=data["end_year"],
                    baseline_year=data["baseline_year"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The strategy %(strategy)s was created from a copy of %(source)s.")
                    % {"strategy": strategy, "source": data["source"]},
                )
                return redirect("kpi:strategies")
    else:
        form = StrategyCopyForm(initial=dashboard.strategy_copy_initial())
    return render(request, "kpi/strategy_form.html", {"form": form})


@require_GET
@permissions.require(permissions.can_follow_action_plan)
def action_plan(request):
    """The strategy's action plan: activities by status and region, overdue ones marked."""
    page = dashboard.action_plan_page(request.user, request.GET)
    _show_errors(request, page.errors)
    return render(request, "kpi/action_plan.html", page.context())


@require_POST
@permissions.require(permissions.can_follow_action_plan)
def activity_update(request, pk: int):
    """The secretariat sets an activity's status and note."""
    activity = get_object_or_404(StrategyActivity, pk=pk)
    if not permissions.can_update_activity(request.user, activity):
        raise PermissionDenied
    form = ActivityUpdateForm(request.POST, prefix=f"a{activity.pk}")
    if form.is_valid():
        try:
            services.activity_update(
                activity=activity,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Activity updated: %(title)s") % {"title": activity})
    else:
        messages.error(request, "; ".join(form_errors(form)))
    target = form.data.get(f"a{activity.pk}-next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or f"{reverse('kpi:action_plan')}#activity-{activity.pk}")
