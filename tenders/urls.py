from django.urls import include, path

from tenders import views, views_excel

app_name = "tenders"
urlpatterns = [
    # The plan (tenders/views.py)
    path("", views.index, name="index"),
    path("ny/", views.tender_create, name="create"),
    path("udestaaende/", views.outstanding, name="outstanding"),
    path("optioner/", views.options, name="options"),
    path("status/", views.status_report, name="status_report"),
    path("region/<str:code>/", views.region, name="region"),
    path("sag/<str:reference>/", views.detail, name="detail"),
    path("sag/<str:reference>/rediger/", views.tender_edit, name="edit"),
    path(
        "sag/<str:reference>/deltagelse/<str:region_code>/",
        views.participation_edit,
        name="participation",
    ),
    path(
        "sag/<str:reference>/deltagelse/<str:region_code>/option/",
        views.option_exercise,
        name="option_exercise",
    ),
    # UFO and savings (tenders/ufo/)
    path("", include("tenders.ufo.urls")),
    # Excel in and out (tenders/views_excel.py)
    path("eksport.xlsx", views_excel.plan_export, name="export"),
    path("status.xlsx", views_excel.status_report_export, name="status_report_export"),
    path("import/", views_excel.plan_import, name="import"),
]
