from django.urls import path

from . import views

urlpatterns = [
    path("", views.kb_search, name="kb-search"),
    path("items/new/", views.kb_item_new, name="kb-item-new"),
    path("items/<int:pk>/", views.kb_item, name="kb-item"),
    path("items/<int:pk>/edit/", views.kb_item_edit, name="kb-item-edit"),
    path("items/<int:pk>/favourite/", views.kb_favourite, name="kb-favourite"),
    path("items/<int:pk>/helpful/", views.kb_helpful, name="kb-helpful"),
    path("items/<int:pk>/state/", views.kb_item_state, name="kb-item-state"),
    path("items/<int:pk>/move/", views.kb_item_move, name="kb-item-move"),
    path("items/<int:pk>/stats/", views.kb_item_stats, name="kb-item-stats"),
    path("recycle/", views.kb_recycle, name="kb-recycle"),
    path("attachments/<int:pk>/", views.kb_attachment, name="kb-attachment"),
    path("directories/", views.kb_directories, name="kb-directories"),
    path("directories/<int:pk>/", views.kb_directories, name="kb-directory"),
    path("directories/<int:pk>/import/", views.kb_directory_import, name="kb-directory-import"),
    path("directories/create/", views.kb_directory_create, name="kb-directory-create"),
    path("directories/<int:pk>/rename/", views.kb_directory_rename, name="kb-directory-rename"),
    path("directories/<int:pk>/move/", views.kb_directory_move, name="kb-directory-move"),
    path("directories/<int:pk>/delete/", views.kb_directory_delete, name="kb-directory-delete"),
    path("directories/<int:pk>/grants/", views.kb_directory_grants, name="kb-directory-grants"),
    path("directories/<int:pk>/stats/", views.kb_directory_stats, name="kb-directory-stats"),
    path("rankings/", views.kb_rankings, name="kb-rankings"),
    path("reviews/", views.kb_reviews, name="kb-reviews"),
    path("versions/<int:pk>/approve/", views.kb_version_approve, name="kb-version-approve"),
    path("versions/<int:pk>/reject/", views.kb_version_reject, name="kb-version-reject"),
    path("partials/suggest/", views.kb_suggest, name="kb-suggest"),
    path("partials/directories/", views.kb_directory_matches, name="kb-directory-matches"),
]
