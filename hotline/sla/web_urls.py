from django.urls import path

from . import views

urlpatterns = [
    path("supervision/", views.supervision, name="supervision"),
]
