from django.urls import path

from spend import views

app_name = "spend"


def _rule_paths(kind: str, slug: str, name: str) -> list:
    """Create, edit and delete for one kind of rule, served by the generic pair of views."""
    return [
        path(f"regler/{slug}/ny/", views.rule_form, {"kind": kind}, name=f"{name}_create"),
        path(f"regler/{slug}/<int:pk>/", views.rule_form, {"kind": kind}, name=f"{name}_edit"),
        path(
            f"regler/{slug}/<int:pk>/slet/",
            views.rule_delete,
            {"kind": kind},
            name=f"{name}_delete",
        ),
    ]


urlpatterns = [
    # Analysis (?region=CODE|all&year=YYYY on every page)
    path("", views.index, name="index"),
    path("leverandoerer/", views.suppliers, name="suppliers"),
    path("maaneder/", views.months, name="months"),
    path("uden-kontrakt/", views.off_contract, name="off_contract"),
    path("smaa-fakturaer/", views.small_invoices, name="small_invoices"),
    path("ukortlagt/", views.unmapped, name="unmapped"),
    path("eksport/<slug:table>.xlsx", views.export, name="export"),
    # Mapping and exclusion rules, column mappings
    path("regler/", views.rule_list, name="rules"),
    path("regler/genberegn/", views.remap, name="remap"),
    *_rule_paths("mapping", "kortlaegning", "mapping_rule"),
    *_rule_paths("exclusion", "udeladelse", "exclusion_rule"),
    *_rule_paths("column", "kolonner", "column_mapping"),
    # Ledger-extract uploads, their progress and error reports
    path("indlaes/", views.upload, name="upload"),
    path("indlaes/skabelon.<str:fmt>", views.upload_template, name="upload_template"),
    path("indlaes/<int:pk>/", views.batch, name="batch"),
    path("indlaes/<int:pk>/status/", views.batch_status, name="batch_status"),
    path("indlaes/<int:pk>/bekraeft/", views.batch_confirm, name="batch_confirm"),
    path("indlaes/<int:pk>/annuller/", views.batch_cancel, name="batch_cancel"),
    path("indlaes/<int:pk>/fejl.csv", views.batch_errors, name="batch_errors"),
    path("indlaes/<int:pk>/fil", views.batch_file, name="batch_file"),
]
