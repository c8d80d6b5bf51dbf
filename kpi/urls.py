from django.urls import path

from kpi import views

app_name = "kpi"
urlpatterns = [
    # Dashboards (?region=CODE&year=YYYY), read from stored snapshots
    path("", views.index, name="index"),
    path("samarbejde/", views.collaboration, name="collaboration"),
    path("rapport/", views.report, name="report"),
    path("eksport.xlsx", views.export, name="export"),
    # Drill-downs that the spend pages do not have
    path("compliance/", views.compliance, name="compliance"),
    path("digitale-ordrer/", views.digital_orders, name="digital_orders"),
    # Strategies (periods, baseline, targets) and their action plans
    path("strategier/", views.strategies, name="strategies"),
    path("strategier/ny/", views.strategy_create, name="strategy_create"),
    path("handlingsplan/", views.action_plan, name="action_plan"),
    path("handlingsplan/<int:pk>/", views.activity_update, name="activity_update"),
]
