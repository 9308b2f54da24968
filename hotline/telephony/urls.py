from django.urls import path

from . import views

urlpatterns = [
    path("callbar/", views.callbar, name="tel-callbar"),
    path("callbar/login/", views.agent_login, name="tel-agent-login"),
    path("callbar/state/", views.agent_state, name="tel-agent-state"),
    path("callbar/call/", views.call_action, name="tel-call-action"),
    path("callbar/note/", views.agent_note, name="tel-agent-note"),
    path("events/", views.events, name="tel-events"),
    path("dial/", views.dial, name="tel-dial"),
    path("missed/", views.missed_list, name="tel-missed"),
    path("missed/<int:pk>/done/", views.missed_done, name="tel-missed-done"),
    path("ivr/", views.ivr_list, name="tel-ivr-list"),
    path("monitor/", views.monitor, name="tel-monitor"),
    path("monitor/board/", views.monitor_board, name="tel-monitor-board"),
    path("monitor/events/", views.monitor_events, name="tel-monitor-events"),
    path("cdr/", views.cdr, name="tel-cdr"),
    path("case/<int:case_pk>/recordings/", views.case_recordings, name="tel-case-recordings"),
    path("recordings/<int:pk>/audio/", views.recording_audio, name="tel-recording-audio"),
    path("ivr/<slug:code>/", views.ivr_edit, name="tel-ivr-edit"),
]
