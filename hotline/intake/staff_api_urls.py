"""Staff API of the citizen channels (SMS contact groups, WeChat template messages) under /api/v1/; the
citizens' own API is `api_urls` under /api/v1/citizen/."""

from django.urls import path

from .sms import api
from .wechat import api as wechat_api

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
    # WeChat template messages (the staff side of the citizen channels, beside SMS)
    path("wechat/notice-templates/", wechat_api.WeChatTemplateListApi.as_view(), name="api-wechat-templates"),
    path(
        "wechat/notice-templates/<slug:code>/",
        wechat_api.WeChatTemplateDetailApi.as_view(),
        name="api-wechat-template",
    ),
    path(
        "wechat/template-sends/",
        wechat_api.WeChatTemplateSendListApi.as_view(),
        name="api-wechat-template-sends",
    ),
]
