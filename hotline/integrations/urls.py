from django.urls import path

from . import api, basedata_api, bureau_api, calls_api, emergency_api, external_api, knowledge_api

urlpatterns = [
    path("partner/ping/", api.PartnerPingApi.as_view(), name="partner-ping"),
    path(
        "partner/base-data/<slug:kind>/", basedata_api.PartnerBaseDataApi.as_view(), name="partner-base-data"
    ),
    path(
        "partner/emergency/<int:pk>/feedback/",
        emergency_api.EmergencyFeedbackApi.as_view(),
        name="partner-emergency-feedback",
    ),
    path(
        "partner/case-calls/<str:number>/", calls_api.PartnerCaseCallsApi.as_view(), name="partner-case-calls"
    ),
    path(
        "partner/recordings/<int:pk>/audio/",
        calls_api.PartnerRecordingAudioApi.as_view(),
        name="partner-recording-audio",
    ),
    path("partner/cases/", external_api.PartnerCaseReceiveApi.as_view(), name="partner-cases"),
    path(
        "partner/cases/<str:external_id>/", external_api.PartnerCaseDetailApi.as_view(), name="partner-case"
    ),
    path("partner/assignments/", bureau_api.PartnerAssignmentListApi.as_view(), name="partner-assignments"),
    path(
        "partner/assignments/<int:pk>/<slug:action>/",
        bureau_api.PartnerAssignmentActionApi.as_view(),
        name="partner-assignment-action",
    ),
    path("kb/open/search/", knowledge_api.PartnerKnowledgeSearchApi.as_view(), name="api-kb-open-search"),
]
