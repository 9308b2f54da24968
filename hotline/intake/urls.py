from django.urls import path

from .wechat import views as wechat

urlpatterns = [
    path("wechat/<str:app_id>/", wechat.wechat_endpoint, name="intake-wechat"),
]
