from django.urls import path

from . import api

urlpatterns = [
    path("flows/templates/", api.TemplateListApi.as_view(), name="api-flow-templates"),
    path("flows/templates/<int:pk>/", api.TemplateDetailApi.as_view(), name="api-flow-template"),
    path("flows/versions/<int:pk>/", api.VersionExportApi.as_view(), name="api-flow-version"),
    path("flows/import/", api.ImportApi.as_view(), name="api-flow-import"),
    path("cases/<int:pk>/flow/", api.CaseFlowApi.as_view(), name="api-case-flow"),
]
