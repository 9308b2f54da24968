from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from . import api

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("units/", api.UnitListApi.as_view(), name="api-units"),
    path("dictionaries/", api.DictionaryApi.as_view(), name="api-dictionaries"),
]
