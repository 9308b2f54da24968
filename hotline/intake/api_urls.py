from django.urls import path

from hotline.cases import password_api

from . import api

urlpatterns = [
    path("auth/code/", api.CodeApi.as_view(), name="api-citizen-code"),
    path("auth/login/", api.LoginApi.as_view(), name="api-citizen-login"),
    path("auth/logout/", api.LogoutApi.as_view(), name="api-citizen-logout"),
    path("types/", api.TypeListApi.as_view(), name="api-citizen-types"),
    path("announcements/", api.AnnouncementListApi.as_view(), name="api-citizen-announcements"),
    path("announcements/<int:pk>/", api.AnnouncementDetailApi.as_view(), name="api-citizen-announcement"),
    path("chat/", api.ChatApi.as_view(), name="api-citizen-chat"),
    path("public-cases/", api.PublicCaseListApi.as_view(), name="api-citizen-public-cases"),
    path("public-cases/<str:number>/", api.PublicCaseDetailApi.as_view(), name="api-citizen-public-case"),
    path("hot/", api.HotApi.as_view(), name="api-citizen-hot"),
    path("kb/search/", api.KnowledgeSearchApi.as_view(), name="api-citizen-kb-search"),
    # the app's path to query-password recovery (INT-6): the public API's views, under the citizen prefix too
    path("password/code/", password_api.CodeRequestApi.as_view(), name="api-citizen-password-code"),
    path("password/reset/", password_api.ResetApi.as_view(), name="api-citizen-password-reset"),
    path("requests/", api.RequestListApi.as_view(), name="api-citizen-requests"),
    path("requests/<str:number>/", api.RequestDetailApi.as_view(), name="api-citizen-request"),
    path("requests/<str:number>/rating/", api.RequestRatingApi.as_view(), name="api-citizen-rating"),
    path("requests/<str:number>/photos/", api.RequestPhotoApi.as_view(), name="api-citizen-photos"),
]
