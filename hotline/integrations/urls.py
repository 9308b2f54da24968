from django.urls import path

from . import api

urlpatterns = [
    path("partner/ping/", api.PartnerPingApi.as_view(), name="partner-ping"),
]
