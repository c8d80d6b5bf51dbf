from django.urls import path

from suppliers import views

app_name = "suppliers"
urlpatterns = [
    path("", views.index, name="index"),
    path("ny/", views.create, name="create"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("import/", views.contract_import, name="import"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/rediger/", views.edit, name="edit"),
    path("<int:pk>/slet/", views.delete, name="delete"),
]
