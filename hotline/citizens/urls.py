from django.urls import path

from . import api

urlpatterns = [
    path("citizens/", api.CitizenListCreateApi.as_view(), name="api-citizens"),
    path("citizens/screen-pop/", api.ScreenPopApi.as_view(), name="api-citizen-screen-pop"),
    path("citizens/import/", api.CitizenImportApi.as_view(), name="api-citizen-import"),
    path("citizens/export/", api.CitizenExportApi.as_view(), name="api-citizen-export"),
    path("citizens/imports/<int:pk>/", api.ImportJobApi.as_view(), name="api-citizen-import-job"),
    path("citizens/contacts/import/", api.ContactImportApi.as_view(), name="api-contact-import"),
    path("citizens/contacts/export/", api.ContactExportApi.as_view(), name="api-contact-export"),
    path("citizens/contacts/<int:pk>/", api.ContactDetailApi.as_view(), name="api-contact-detail"),
    path("citizens/blacklist/", api.BlacklistListCreateApi.as_view(), name="api-blacklist"),
    path("citizens/blacklist/check/", api.BlacklistCheckApi.as_view(), name="api-blacklist-check"),
    path("citizens/blacklist/import/", api.BlacklistImportApi.as_view(), name="api-blacklist-import"),
    path("citizens/blacklist/export/", api.BlacklistExportApi.as_view(), name="api-blacklist-export"),
    path("citizens/blacklist/<int:pk>/", api.BlacklistDetailApi.as_view(), name="api-blacklist-detail"),
    path("citizens/<int:pk>/", api.CitizenDetailApi.as_view(), name="api-citizen-detail"),
    path("citizens/<int:pk>/contacts/", api.ContactListCreateApi.as_view(), name="api-citizen-contacts"),
    path("citizens/<int:pk>/history/", api.CitizenHistoryApi.as_view(), name="api-citizen-history"),
]
