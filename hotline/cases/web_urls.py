from typing import Any

from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from . import attachments, views, workbench


class FaviconRedirect(RedirectView):
    """The icon's URL is looked up per request: in production it is the hashed name from collectstatic's manifest,
    which does not exist yet when the URL configuration is imported (e.g. by `check --deploy` before collectstatic)."""

    def get_redirect_url(self, *args: Any, **kwargs: Any) -> str:
        return static("hotline/favicon.svg")


urlpatterns = [
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/search/", views.case_search, name="case-search"),
    path("cases/board/", views.board, name="case-board"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
    path("cases/attachments/<int:pk>/", attachments.attachment_download, name="case-attachment"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case-edit"),
    path("cases/<int:pk>/act/<slug:slug>/", views.case_act, name="case-act"),
    path("assignments/<int:pk>/act/<slug:slug>/", views.assignment_act, name="assignment-act"),
    path("extensions/<int:pk>/decide/", views.extension_decide, name="extension-decide"),
    path("partials/units/", views.unit_options, name="unit-options"),
    path("partials/citizen/", views.citizen_lookup, name="citizen-lookup"),
    path("partials/duplicates/", views.duplicate_candidates, name="duplicate-candidates"),
    path("cases/<int:pk>/merge-candidates/", views.merge_candidates, name="case-merge-candidates"),
    path("cases/<int:pk>/merge/", views.case_merge, name="case-merge"),
    path("cases/<int:pk>/unmerge/", views.case_unmerge, name="case-unmerge"),
    path("cases/clusters/", views.hot_clusters, name="case-clusters"),
    path("partials/notices/", views.notices, name="notices"),
    path("cases/<int:pk>/print/", workbench.case_print, name="case-print"),
    path("cases/<int:pk>/reveal-phone/", workbench.case_reveal_phone_view, name="case-reveal-phone"),
    path("cases/hot-questions/", workbench.hot_questions, name="case-hot-questions"),
    path("notices/<int:pk>/open/", workbench.notice_open, name="notice-open"),
    # browsers ask for /favicon.ico on files that are not pages (exports, prints saved as PDF)
    path("favicon.ico", FaviconRedirect.as_view(permanent=True)),
]
