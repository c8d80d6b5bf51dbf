from django.urls import path

from spend import views

app_name = "spend"
urlpatterns = [
    path("", views.index, name="index"),
]
