"""The public supplier portal under /udbud/: no login, only publishable cases.

Other features add their routes here (OCDS, alerts). Keep the catch-all
``<reference>/`` route LAST: a fixed path placed after it would be read as a reference.
"""

from django.urls import path

from suppliers.public import alert_views, feeds
from suppliers.public import export as public_export
from suppliers.public import views as public_views
from suppliers.public.ocds import views as ocds_views

app_name = "public"
urlpatterns = [
    path("", public_views.index, name="index"),
    path("tidslinje/", public_views.timeline, name="timeline"),
    path("region/<str:code>/", public_views.region, name="region"),
    path("feed.rss", feeds.TenderFeed(), name="feed"),
    path("kalender.ics", feeds.calendar, name="calendar"),
    path("udbud.csv", public_export.csv_export, name="csv"),
    path("udbud.xlsx", public_export.xlsx_export, name="xlsx"),
    # OCDS open data (docs/ocds.md) and the project's own extension.
    path("ocds.json", ocds_views.package, name="ocds"),
    path(
        "ocds/extension/option-participation/<str:filename>",
        ocds_views.extension_file,
        name="ocds_extension",
    ),
    path(
        "ocds/extension/option-participation/codelists/<str:filename>",
        ocds_views.extension_codelist,
        name="ocds_extension_codelist",
    ),
    # Copies of upstream extensions without a release (SERVED_COPIES): pinned by the site.
    path(
        "ocds/extension/copy/<str:name>/<str:filename>",
        ocds_views.extension_copy_file,
        name="ocds_extension_copy",
    ),
    path(
        "ocds/extension/copy/<str:name>/codelists/<str:filename>",
        ocds_views.extension_copy_codelist,
        name="ocds_extension_copy_codelist",
    ),
    # Suppliers' e-mail alerts (suppliers/public/alerts.py).
    path("abonnement/", alert_views.subscribe, name="alerts_subscribe"),
    path("abonnement/sendt/", alert_views.sent, name="alerts_sent"),
    path("abonnement/bekraeft/<str:token>/", alert_views.confirm, name="alerts_confirm"),
    path("abonnement/afmeld/<str:token>/", alert_views.unsubscribe, name="alerts_unsubscribe"),
    path("abonnement/slet/<str:token>/", alert_views.delete, name="alerts_delete"),
    # Keep last (see the module docstring).
    path("<str:reference>/", public_views.detail, name="detail"),
]
