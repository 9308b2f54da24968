from django.urls import path

from . import api

urlpatterns = [
    path("sms/groups/", api.GroupListApi.as_view(), name="api-sms-groups"),
    path("sms/groups/<int:pk>/", api.GroupDetailApi.as_view(), name="api-sms-group"),
    path("sms/groups/<int:pk>/members/", api.GroupMembersApi.as_view(), name="api-sms-group-members"),
    path(
        "sms/groups/<int:pk>/members/<int:member>/",
        api.GroupMemberDetailApi.as_view(),
        name="api-sms-group-member",
    ),
    path("sms/groups/<int:pk>/send/", api.GroupSendApi.as_view(), name="api-sms-group-send"),
    path("sms/group-sends/<int:pk>/", api.GroupSendReportApi.as_view(), name="api-sms-group-send-report"),
]
