from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.measures, name="measures"),
]

# --- live boards and the big screen (MON-1..3), kept in one block
from . import board_views  # noqa: E402

urlpatterns += [
    path("boards/", board_views.board, name="boards"),
    path("boards/stream/cases/", board_views.cases_stream, name="boards-cases-stream"),
    path("boards/stream/calls/", board_views.calls_stream, name="boards-calls-stream"),
    path("screen/", board_views.screen, name="screen"),
    path("screen/stream/", board_views.screen_stream, name="screen-stream"),
]
from . import call_views  # noqa: E402

urlpatterns += [path("calls/", call_views.call_reports, name="calls")]

# --- reports: cross-tab builder, saved reports, presets (issue 15, RPT-1 / STAT-2) ---
from .reports import views as report_views  # noqa: E402

urlpatterns += [
    path("reports/", report_views.builder, name="reports"),
    path("reports/save/", report_views.report_save, name="report-save"),
    path("reports/<int:pk>/", report_views.report_run, name="report-run"),
    path("reports/<int:pk>/delete/", report_views.report_delete, name="report-delete"),
]

# --- assessment (issue 15, KPI-1..3) ---
from .kpi import views as kpi_views  # noqa: E402

urlpatterns += [
    path("kpi/", kpi_views.index, name="kpi"),
    path("kpi/periods/", kpi_views.period_create, name="kpi-period-create"),
    path("kpi/<int:pk>/", kpi_views.period_detail, name="kpi-period"),
    path("kpi/<int:pk>/compute/", kpi_views.period_compute, name="kpi-compute"),
    path("kpi/<int:pk>/publish/", kpi_views.period_publish, name="kpi-publish"),
    path("kpi/<int:pk>/adjust/", kpi_views.period_adjust, name="kpi-adjust"),
    path("kpi/<int:pk>/note/", kpi_views.period_note, name="kpi-note"),
    path("kpi/notes/<int:pk>/reply/", kpi_views.note_reply, name="kpi-note-reply"),
]

# --- topics (issue 15, STAT-3) ---
from .topics import views as topic_views  # noqa: E402

urlpatterns += [path("topics/", topic_views.topics, name="topics")]

# --- scheduled reports (issue 15, RPT-1) ---
from .reports import schedule_views  # noqa: E402

urlpatterns += [
    path("reports/schedules/", schedule_views.schedule_list, name="report-schedules"),
    path("reports/schedules/<int:pk>/delete/", schedule_views.schedule_delete, name="report-schedule-delete"),
]
