from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.measures, name="measures"),
]

# --- reports: cross-tab builder, saved reports, presets (issue 15, RPT-1 / STAT-2) ---
from .reports import views as report_views  # noqa: E402

urlpatterns += [
    path("reports/", report_views.builder, name="reports"),
    path("reports/save/", report_views.report_save, name="report-save"),
    path("reports/<int:pk>/", report_views.report_run, name="report-run"),
    path("reports/<int:pk>/delete/", report_views.report_delete, name="report-delete"),
]
