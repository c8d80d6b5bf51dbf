from django.urls import path

from spend import views, views_upload

app_name = "spend"
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
    path("regler/", views.rules, name="rules"),
    path("regler/genberegn/", views.remap, name="remap"),
    path("regler/kortlaegning/ny/", views.mapping_rule_create, name="mapping_rule_create"),
    path("regler/kortlaegning/<int:pk>/", views.mapping_rule_edit, name="mapping_rule_edit"),
    path(
        "regler/kortlaegning/<int:pk>/slet/",
        views.mapping_rule_delete,
        name="mapping_rule_delete",
    ),
    path("regler/udeladelse/ny/", views.exclusion_rule_create, name="exclusion_rule_create"),
    path("regler/udeladelse/<int:pk>/", views.exclusion_rule_edit, name="exclusion_rule_edit"),
    path(
        "regler/udeladelse/<int:pk>/slet/",
        views.exclusion_rule_delete,
        name="exclusion_rule_delete",
    ),
    path("regler/kolonner/ny/", views.column_mapping_create, name="column_mapping_create"),
    path("regler/kolonner/<int:pk>/", views.column_mapping_edit, name="column_mapping_edit"),
    path(
        "regler/kolonner/<int:pk>/slet/",
        views.column_mapping_delete,
        name="column_mapping_delete",
    ),
    # Ledger-extract uploads, their progress and error reports
    path("indlaes/", views_upload.upload, name="upload"),
    path("indlaes/<int:pk>/", views_upload.batch, name="batch"),
    path("indlaes/<int:pk>/status/", views_upload.batch_status, name="batch_status"),
    path("indlaes/<int:pk>/fejl.csv", views_upload.batch_errors, name="batch_errors"),
    path("indlaes/<int:pk>/fil", views_upload.batch_file, name="batch_file"),
]
