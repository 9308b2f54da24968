from django.urls import path

from . import api, bureau_api

urlpatterns = [
    path("partner/ping/", api.PartnerPingApi.as_view(), name="partner-ping"),
    path("partner/assignments/", bureau_api.PartnerAssignmentListApi.as_view(), name="partner-assignments"),
    path(
        "partner/assignments/<int:pk>/<slug:action>/",
        bureau_api.PartnerAssignmentActionApi.as_view(),
        name="partner-assignment-action",
    ),
]
