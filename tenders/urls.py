from django.urls import path

from tenders import views, views_excel
from tenders.ufo import views as views_ufo

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
    # UFO and savings (tenders/views_ufo.py)
    path("ufo/", views_ufo.candidates, name="candidates"),
    path("ufo/ny/", views_ufo.candidate_create, name="candidate_create"),
    path("ufo/<int:pk>/", views_ufo.candidate_detail, name="candidate"),
    path("ufo/<int:pk>/score/", views_ufo.candidate_score, name="candidate_score"),
    path("ufo/<int:pk>/anbefal/", views_ufo.candidate_recommend, name="candidate_recommend"),
    path("ufo/<int:pk>/beslut/", views_ufo.candidate_decide, name="candidate_decide"),
    path("sag/<str:reference>/besparelse/", views_ufo.savings_edit, name="savings"),
    path("besparelser/", views_ufo.savings_overview, name="savings_overview"),
    # Excel in and out (tenders/views_excel.py)
    path("eksport.xlsx", views_excel.plan_export, name="export"),
    path("status.xlsx", views_excel.status_report_export, name="status_report_export"),
    path("import/", views_excel.plan_import, name="import"),
]
