from django.urls import path

from . import portal

urlpatterns = [path("", portal.query_password_reset, name="portal-query-password")]
