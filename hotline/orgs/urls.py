from django.urls import path

from . import api, tokens

urlpatterns = [
    path("auth/token/", tokens.ObtainTokenApi.as_view(), name="api-token"),
    path("auth/tokens/", tokens.TokenListApi.as_view(), name="api-tokens"),
    path("auth/tokens/<str:prefix>/", tokens.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("units/", api.UnitListApi.as_view(), name="api-units"),
    path("dictionaries/", api.DictionaryApi.as_view(), name="api-dictionaries"),
]
