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
    if permissions.can_use_ufo_menu(user):
        items.append((reverse("tenders:candidates"), _("UFO")))
    if permissions.can_view_reference_data(user):
        items.append((reverse("categories"), _("Categories")))
    if permissions.can_view_audit_log(user):
        items.append((reverse("audit_log"), _("History")))
    if permissions.can_access_admin(user):
        items.append((reverse("admin:index"), _("Administration")))
    # The current entry is the longest one the path starts with: /fup/ufo/ is UFO, not
    # also the tender plan at /fup/.
    matching = [url for url, _label in items if request.path.startswith(url)]
    current = max(matching, key=len) if matching else None
    return {
        "can_import_plan": permissions.can_import_plan(user),
        "nav_items": [
            {"url": url, "label": label, "current": url == current} for url, label in items
        ],
    }
