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
