from django.urls import path

from . import api

urlpatterns = [
    path("analytics/measures/", api.MeasuresApi.as_view(), name="analytics-measures-api"),
]
