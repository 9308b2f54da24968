from django.urls import path

from . import api

urlpatterns = [
    path("analytics/measures/", api.MeasuresApi.as_view(), name="analytics-measures-api"),
]

# --- reports (issue 15, RPT-1) ---
from .reports import api as report_api  # noqa: E402

urlpatterns += [
    path("analytics/crosstab/", report_api.CrosstabApi.as_view(), name="analytics-crosstab-api"),
]
