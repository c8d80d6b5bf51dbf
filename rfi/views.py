"""Pages of the project package: home, my region and roles, the audit log, CPV search, health."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe

from rfi import home as home_tasks
from rfi import metrics, permissions, services
from rfi.forms import AuditFilterForm
from rfi.health import anonymous_report, health_report, liveness_report
from rfi.models import Category, Region
from rfi.selectors import api_tokens_of, audit_page, category_search, memberships_of


def home(request):
    """Each of the user's roles with its tasks (rfi/home.py); the regions for everyone."""
    context = {
        "regions": Region.objects.filter(active=True),
        "can_view_internal": permissions.can_view_internal_pages(request.user),
        "sections": home_tasks.sections_for(request.user),
    }
    return render(request, "rfi/home.html", context)


@permissions.require(permissions.can_view_own_profile)
def me(request):
    context = {
        "memberships": memberships_of(user=request.user),
        "is_secretariat": permissions.is_secretariat(request.user),
        "api_tokens": api_tokens_of(user=request.user),
        "ttl_days": settings.API_TOKEN_TTL_DAYS,
    }
    return render(request, "rfi/me.html", context)


@require_POST
@permissions.require(permissions.can_view_own_profile)
def api_token_revoke(request, token_key: str):
    """The user revokes one of their own API tokens ("all" revokes every one)."""
    if token_key == "all":
        count = services.api_tokens_revoke_all(user=request.user)
    else:
        count = int(services.api_token_revoke(actor=request.user, token_key=token_key))
    messages.success(
        request,
        ngettext("%(n)d API token revoked.", "%(n)d API tokens revoked.", count) % {"n": count},
    )
    return redirect("me")


@permissions.require(permissions.can_view_audit_log)
def audit_log(request):
    """Who changed what, when: every domain history, filterable, newest first."""
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {key: value for key, value in filters.items() if value not in (None, "")}
    try:
        page = int(request.GET.get("page", 1))
    except ValueError:
        page = 1
    entries, has_next = audit_page(page=page, **filters)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "entries": entries,
        "page": max(1, page),
        "has_next": has_next,
        "query": query.urlencode(),
    }
    return render(request, "rfi/audit_log.html", context)


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
    """Liveness (no round trip to the worker or the cache); ``?ready=1``: readiness.

    The operator (the secretariat, or the METRICS_TOKEN bearer) gets each check's detail,
    freshly made; anyone else gets ok/down per component, made at most every few seconds.
    """
    ready = bool(request.GET.get("ready"))
    operator = metrics.token_matches(
        request.headers.get("Authorization", "")
    ) or permissions.can_view_metrics(request.user)
    if operator:
        healthy, report = (health_report if ready else liveness_report)()
    else:
        healthy, report = anonymous_report(ready=ready)
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


FAVICON = settings.BASE_DIR / "static" / "favicon.svg"


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    """/favicon.ico for clients that ask for it without reading the pages' link rel=icon."""
    return HttpResponse(FAVICON.read_bytes(), content_type="image/svg+xml")
