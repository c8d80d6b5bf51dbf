"""Navigation by role for templates/base.html."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rfi import permissions


def navigation(request) -> dict:
    user = request.user
    items = []
    if permissions.can_view_internal_pages(user):
        items += [
            (reverse("tenders:index"), _("Tender plan")),
            (reverse("suppliers:index"), _("Contracts")),
            (reverse("spend:index"), _("Spend")),
            (reverse("kpi:index"), _("KPIs")),
        ]
    if permissions.can_view_reference_data(user):
        items.append((reverse("categories"), _("Categories")))
    if permissions.can_view_audit_log(user):
        items.append((reverse("audit_log"), _("History")))
    if permissions.can_access_admin(user):
        items.append((reverse("admin:index"), _("Administration")))
    current = request.path
    return {
        "can_import_plan": permissions.can_import_plan(user),
        "nav_items": [
            {"url": url, "label": label, "current": current.startswith(url)} for url, label in items
        ],
    }
