from django.urls import path

from suppliers import regional_views, views

app_name = "suppliers"
urlpatterns = [
    path("", views.index, name="index"),
    path("ny/", views.create, name="create"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("import/", views.contract_import, name="import"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/rediger/", views.edit, name="edit"),
    path("<int:pk>/slet/", views.delete, name="delete"),
    # Each region's contract after a joint award (suppliers/regional_views.py)
    path("tildeling/<str:reference>/", regional_views.tender_award, name="tender_award"),
    path("<int:pk>/underskriv/", regional_views.contract_sign, name="sign"),
    path("<int:pk>/ejer/", regional_views.contract_owner, name="owner"),
    path("<int:pk>/forlaengelse/", regional_views.extension_add, name="extension_add"),
    path(
        "<int:pk>/forlaengelse/<int:extension_pk>/",
        regional_views.extension_decide,
        name="extension_decide",
    ),
    path("<int:pk>/dokumenter/", regional_views.document_upload, name="document_upload"),
    path(
        "<int:pk>/dokumenter/<int:document_pk>/",
        regional_views.document_download,
        name="document_download",
    ),
]
