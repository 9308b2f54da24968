from django.urls import path

from . import api

urlpatterns = [
    path("kb/spaces/", api.SpaceListApi.as_view(), name="api-kb-spaces"),
    path("kb/directories/", api.DirectoryListApi.as_view(), name="api-kb-directories"),
    path("kb/directories/search/", api.DirectorySearchApi.as_view(), name="api-kb-directory-search"),
    path("kb/directories/<int:pk>/", api.DirectoryDetailApi.as_view(), name="api-kb-directory"),
    path("kb/directories/<int:pk>/move/", api.DirectoryMoveApi.as_view(), name="api-kb-directory-move"),
    path("kb/directories/<int:pk>/grants/", api.DirectoryGrantsApi.as_view(), name="api-kb-directory-grants"),
    path("kb/directories/<int:pk>/export/", api.DirectoryExportApi.as_view(), name="api-kb-directory-export"),
    path("kb/directories/<int:pk>/import/", api.DirectoryImportApi.as_view(), name="api-kb-directory-import"),
    path(
        "kb/directories/<int:pk>/export-zip/",
        api.DirectoryExportZipApi.as_view(),
        name="api-kb-directory-export-zip",
    ),
    path(
        "kb/directories/<int:pk>/import-zip/",
        api.DirectoryImportZipApi.as_view(),
        name="api-kb-directory-import-zip",
    ),
    path("kb/directories/<int:pk>/stats/", api.DirectoryStatsApi.as_view(), name="api-kb-directory-stats"),
    path("kb/items/", api.ItemListCreateApi.as_view(), name="api-kb-items"),
    path("kb/items/<int:pk>/", api.ItemDetailApi.as_view(), name="api-kb-item"),
    path("kb/items/<int:pk>/state/", api.ItemStateApi.as_view(), name="api-kb-item-state"),
    path("kb/items/<int:pk>/move/", api.ItemMoveApi.as_view(), name="api-kb-item-move"),
    path("kb/items/<int:pk>/versions/", api.ItemVersionsApi.as_view(), name="api-kb-item-versions"),
    path("kb/items/<int:pk>/favourite/", api.ItemFavouriteApi.as_view(), name="api-kb-item-favourite"),
    path("kb/items/<int:pk>/helpful/", api.ItemHelpfulApi.as_view(), name="api-kb-item-helpful"),
    path("kb/items/<int:pk>/stats/", api.ItemStatsApi.as_view(), name="api-kb-item-stats"),
    path("kb/attachments/<int:pk>/", api.AttachmentDownloadApi.as_view(), name="api-kb-attachment"),
    path("kb/reviews/", api.ReviewQueueApi.as_view(), name="api-kb-reviews"),
    path("kb/my-submissions/", api.MySubmissionsApi.as_view(), name="api-kb-my-submissions"),
    path("kb/versions/<int:pk>/", api.VersionDetailApi.as_view(), name="api-kb-version"),
    path("kb/versions/<int:pk>/approve/", api.VersionApproveApi.as_view(), name="api-kb-version-approve"),
    path("kb/versions/<int:pk>/reject/", api.VersionRejectApi.as_view(), name="api-kb-version-reject"),
    path("kb/search/", api.SearchApi.as_view(), name="api-kb-search"),
    path("kb/suggest/", api.SuggestApi.as_view(), name="api-kb-suggest"),
    path("kb/favourites/", api.FavouriteListApi.as_view(), name="api-kb-favourites"),
    path("kb/rankings/", api.RankingApi.as_view(), name="api-kb-rankings"),
]
