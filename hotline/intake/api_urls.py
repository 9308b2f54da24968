from django.urls import path

from . import api

urlpatterns = [
    path("auth/code/", api.CodeApi.as_view(), name="api-citizen-code"),
    path("auth/login/", api.LoginApi.as_view(), name="api-citizen-login"),
    path("auth/logout/", api.LogoutApi.as_view(), name="api-citizen-logout"),
    path("types/", api.TypeListApi.as_view(), name="api-citizen-types"),
    path("announcements/", api.AnnouncementListApi.as_view(), name="api-citizen-announcements"),
    path("announcements/<int:pk>/", api.AnnouncementDetailApi.as_view(), name="api-citizen-announcement"),
    path("chat/", api.ChatApi.as_view(), name="api-citizen-chat"),
    path("requests/", api.RequestListApi.as_view(), name="api-citizen-requests"),
    path("requests/<str:number>/", api.RequestDetailApi.as_view(), name="api-citizen-request"),
    path("requests/<str:number>/rating/", api.RequestRatingApi.as_view(), name="api-citizen-rating"),
    path("requests/<str:number>/photos/", api.RequestPhotoApi.as_view(), name="api-citizen-photos"),
]
