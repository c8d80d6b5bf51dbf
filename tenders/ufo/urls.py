"""UFO and savings routes, included by tenders/urls.py under the "tenders" namespace."""

from django.urls import path

from tenders.ufo import savings_views, views

urlpatterns = [
    path("ufo/", views.candidates, name="candidates"),
    path("ufo/ny/", views.candidate_create, name="candidate_create"),
    path("ufo/kriterier/", views.scoring_rubric, name="scoring_rubric"),
    path("ufo/<int:pk>/", views.candidate_detail, name="candidate"),
    path("ufo/<int:pk>/score/", views.candidate_score, name="candidate_score"),
    path("ufo/<int:pk>/anbefal/", views.candidate_recommend, name="candidate_recommend"),
    path("ufo/<int:pk>/beslut/", views.candidate_decide, name="candidate_decide"),
    path("sag/<str:reference>/besparelse/", views.savings_edit, name="savings"),
    path("besparelser/", views.savings_overview, name="savings_overview"),
    path("besparelser/plan/", savings_views.savings_plan, name="savings_plan"),
    path("besparelser/rapport/<slug:slug>/", savings_views.savings_report, name="savings_report"),
    path(
        "besparelser/rapport/<slug:slug>/xlsx/",
        savings_views.savings_report_export,
        name="savings_report_export",
    ),
]
