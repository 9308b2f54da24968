from django.urls import path

from . import api

urlpatterns = [
    path("cases/", api.CaseListCreateApi.as_view(), name="api-cases"),
    path("cases/<int:pk>/", api.CaseDetailApi.as_view(), name="api-case-detail"),
    path("cases/<int:pk>/timeline/", api.CaseTimelineApi.as_view(), name="api-case-timeline"),
    *[
        path(f"cases/<int:pk>/{name}/", view.as_view(), name=f"api-case-{name}")
        for name, view in api.CASE_ACTIONS.items()
    ],
    *[
        path(f"assignments/<int:pk>/{name}/", view.as_view(), name=f"api-assignment-{name}")
        for name, view in api.ASSIGNMENT_ACTIONS.items()
    ],
    path("worklist/", api.WorklistApi.as_view(), name="api-worklist"),
    path("extensions/", api.ExtensionListApi.as_view(), name="api-extensions"),
    path("extensions/<int:pk>/decide/", api.ExtensionDecideApi.as_view(), name="api-extension-decide"),
    path("public/case-status/", api.PublicLookupApi.as_view(), name="api-public-case-status"),
]
