from django.urls import path

from . import api, attachments, extfields_api, merge_api, password_api, workbench_api

urlpatterns = [
    path("extended-fields/", extfields_api.ExtendedFieldListApi.as_view(), name="api-extended-fields"),
    path(
        "extended-fields/<int:pk>/", extfields_api.ExtendedFieldDetailApi.as_view(), name="api-extended-field"
    ),
    path("cases/", api.CaseListCreateApi.as_view(), name="api-cases"),
    path("cases/duplicates/", merge_api.DuplicatesApi.as_view(), name="api-case-duplicates"),
    path("cases/hot-clusters/", merge_api.HotClustersApi.as_view(), name="api-case-hot-clusters"),
    path("cases/<int:pk>/merge/", merge_api.MergeApi.as_view(), name="api-case-merge"),
    path("cases/<int:pk>/unmerge/", merge_api.UnmergeApi.as_view(), name="api-case-unmerge"),
    path("cases/<int:pk>/co-requesters/", merge_api.CoRequestersApi.as_view(), name="api-case-co-requesters"),
    path("co-requesters/<int:pk>/callback/", merge_api.CoRequesterCallbackApi.as_view(), name="api-co-cb"),
    path("cases/<int:pk>/", api.CaseDetailApi.as_view(), name="api-case-detail"),
    path(
        "cases/attachments/<int:pk>/", attachments.AttachmentDownloadApi.as_view(), name="api-case-attachment"
    ),
    path("cases/<int:pk>/timeline/", api.CaseTimelineApi.as_view(), name="api-case-timeline"),
    *[
        path(f"cases/<int:pk>/{name}/", view.as_view(), name=f"api-case-{name}")
        for name, view in api.CASE_ACTION_VIEWS.items()
    ],
    *[
        path(f"assignments/<int:pk>/{name}/", view.as_view(), name=f"api-assignment-{name}")
        for name, view in api.ASSIGNMENT_ACTION_VIEWS.items()
    ],
    path("worklist/", api.WorklistApi.as_view(), name="api-worklist"),
    path("extensions/", api.ExtensionListApi.as_view(), name="api-extensions"),
    path("extensions/<int:pk>/decide/", api.ExtensionDecideApi.as_view(), name="api-extension-decide"),
    path("public/case-status/", api.PublicLookupApi.as_view(), name="api-public-case-status"),
    path(
        "public/query-password/code/", password_api.CodeRequestApi.as_view(), name="api-public-password-code"
    ),
    path("public/query-password/reset/", password_api.ResetApi.as_view(), name="api-public-password-reset"),
    path("public/hot-questions/", workbench_api.HotQuestionsApi.as_view(), name="api-public-hot-questions"),
    path(
        "cases/<int:pk>/reveal-phone/", workbench_api.RevealPhoneApi.as_view(), name="api-case-reveal-phone"
    ),
]
