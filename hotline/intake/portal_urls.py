from django.urls import path

from . import chat_views, portal, public_cases

urlpatterns = [
    path("", portal.index, name="portal-index"),
    path("submit/", portal.submit, name="portal-submit"),
    path("submit/done/", portal.submitted, name="portal-submitted"),
    path("code/", portal.send_code, name="portal-code"),
    path("case/", portal.lookup, name="portal-lookup"),
    path("case/<str:number>/", portal.case_page, name="portal-case"),
    path("mine/", portal.mine, name="portal-mine"),
    path("public/", public_cases.public_list, name="portal-public"),
    path("public/<str:number>/", public_cases.public_detail, name="portal-public-case"),
    path("hot/", public_cases.hot, name="portal-hot"),
    path("notices/", portal.announcements, name="portal-announcements"),
    path("notices/<int:pk>/", portal.announcement, name="portal-announcement"),
    path("chat/", chat_views.citizen_start, name="portal-chat-start"),
    path("chat/<str:token>/", chat_views.citizen_page, name="portal-chat"),
    path("chat/<str:token>/lines/", chat_views.citizen_lines, name="portal-chat-lines"),
    path("chat/<str:token>/send/", chat_views.citizen_send, name="portal-chat-send"),
    path("chat/<str:token>/events/", chat_views.citizen_events, name="portal-chat-events"),
    path("chat/<str:token>/close/", chat_views.citizen_close, name="portal-chat-close"),
]
