from django.urls import path

from . import case_panel, texts_views
from . import chat_views as chat
from .sms import group_views as sms_groups
from .sms import staff_views as sms_staff
from .sms import views as sms
from .wechat import views as wechat

urlpatterns = [
    path("wechat/<str:app_id>/", wechat.wechat_endpoint, name="intake-wechat"),
    path("sms/kannel/", sms.kannel_mo, name="intake-sms-kannel"),
    path("sms/", sms_staff.sms_page, name="intake-sms"),
    path("sms/settings/", sms_staff.sms_settings, name="intake-sms-settings"),
    path("sms/summary/", sms_staff.sms_summary, name="intake-sms-summary"),
    path("sms/groups/", sms_groups.group_list, name="intake-sms-groups"),
    path("sms/groups/<int:pk>/", sms_groups.group_detail, name="intake-sms-group"),
    path("sms/groups/sends/<int:pk>/", sms_groups.group_send_report, name="intake-sms-group-send"),
    path("texts/", texts_views.texts_page, name="intake-texts"),
    path("case/<int:case_pk>/callback-sms/", case_panel.callback_sms, name="intake-case-callback-sms"),
    path("case/<int:case_pk>/mail-answer/", case_panel.mail_answer, name="intake-case-mail-answer"),
    path("chat/", chat.agent_queue, name="intake-chat"),
    path("chat/events/", chat.agent_queue_events, name="intake-chat-queue-events"),
    path("chat/<int:pk>/", chat.agent_session_page, name="intake-chat-session"),
    path("chat/<int:pk>/accept/", chat.agent_accept, name="intake-chat-accept"),
    path("chat/<int:pk>/lines/", chat.agent_lines, name="intake-chat-lines"),
    path("chat/<int:pk>/events/", chat.agent_events, name="intake-chat-events"),
    path("chat/<int:pk>/send/", chat.agent_send, name="intake-chat-send"),
    path("chat/<int:pk>/close/", chat.agent_close, name="intake-chat-close"),
    path("chat/<int:pk>/case/", chat.agent_make_case, name="intake-chat-case"),
    path("chat/<int:pk>/attach/", chat.agent_attach_case, name="intake-chat-attach"),
]
