from django.urls import path

from . import api

urlpatterns = [
    path("supervision/cards/", api.CardLedgerApi.as_view(), name="api-supervision-cards"),
    path(
        "supervision/time-limits/", api.TimeLimitSupervisionApi.as_view(), name="api-supervision-time-limits"
    ),
    path("supervision/results/", api.ResultSupervisionApi.as_view(), name="api-supervision-results"),
    path("supervision/quality/", api.QualitySupervisionApi.as_view(), name="api-supervision-quality"),
    path("notices/", api.NoticeListApi.as_view(), name="api-notices"),
    path("notices/read/", api.NoticeReadApi.as_view(), name="api-notices-read"),
]
