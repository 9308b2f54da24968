from django.urls import path

from .sms import views as sms
from .wechat import views as wechat

urlpatterns = [
    path("wechat/<str:app_id>/", wechat.wechat_endpoint, name="intake-wechat"),
    path("sms/kannel/", sms.kannel_mo, name="intake-sms-kannel"),
]
