"""Pages of the project package: home, my region and roles, the audit log, CPV search, health."""

from __future__ import annotations

from itertools import islice
from operator import attrgetter

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rfi import metrics, permissions
from rfi.health import health_report, liveness_report
from rfi.models import Category, Membership, PartnerBody, Region
from rfi.selectors import category_search, memberships_of

AUDITED_MODELS = (Region, PartnerBody, Membership)


def home(request):
    context = {
        "regions": Region.objects.filter(active=True),
        "can_view_internal": permissions.can_view_internal_pages(request.user),
    }
    return render(request, "rfi/home.html", context)


@permissions.require(permissions.can_view_own_profile)
def me(request):
    context = {
        "memberships": memberships_of(user=request.user),
        "is_secretariat": permissions.is_secretariat(request.user),
    }
    return render(request, "rfi/me.html", context)


@permissions.require(permissions.can_view_audit_log)
def audit_log(request):
    """Who changed what, when, across every model registered with the history."""
    per_model = (
        model.history.select_related("history_user").order_by("-history_date")[:500]
        for model in AUDITED_MODELS
    )
    entries = sorted(
        (entry for records in per_model for entry in records),
        key=attrgetter("history_date"),
        reverse=True,
    )
    page = Paginator(list(islice(entries, 500)), 50).get_page(request.GET.get("page"))
    return render(request, "rfi/audit_log.html", {"page": page})


@permissions.require(permissions.can_view_reference_data)
def categories(request):
    """The CPV tree, searchable by code or label; htmx swaps only the result list."""
    query = request.GET.get("q", "")
    parent_code = request.GET.get("parent", "")
    parent = Category.objects.filter(code=parent_code).first() if parent_code else None
    if query:
        results = category_search(query=query)
    elif parent:
        results = parent.children.all()
    else:
        results = Category.objects.filter(level=1)
    page = Paginator(results, 50).get_page(request.GET.get("page"))
    context = {"page": page, "query": query, "parent": parent}
    is_htmx = request.headers.get("HX-Request") == "true"
    template = "rfi/_category_results.html" if is_htmx else "rfi/categories.html"
    return render(request, template, context)


@never_cache
@require_GET
def healthz(request):
    """Liveness (no round trip to the worker or the cache); ``?ready=1``: readiness."""
    check = health_report if request.GET.get("ready") else liveness_report
    healthy, report = check()
    return JsonResponse(report, status=200 if healthy else 503)


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus metrics for the operator: the secretariat or the METRICS_TOKEN bearer.

    Anyone else gets 404, as if there were no such page.
    """
    if not (
        metrics.token_matches(request.headers.get("Authorization", ""))
        or permissions.can_view_metrics(request.user)
    ):
        raise Http404
    return HttpResponse(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
