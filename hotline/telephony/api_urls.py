from django.urls import path

from . import api

urlpatterns = [
    path("telephony/call-action/", api.CallActionApi.as_view(), name="api-tel-call-action"),
    path("telephony/monitor/", api.MonitorApi.as_view(), name="api-tel-monitor"),
    path(
        "telephony/recordings/<int:pk>/audio/",
        api.RecordingAudioApi.as_view(),
        name="api-tel-recording-audio",
    ),
]
