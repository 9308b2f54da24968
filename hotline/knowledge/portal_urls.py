from django.urls import path

from . import portal

urlpatterns = [
    path("", portal.portal_search, name="portal-kb-search"),
    path("items/<int:pk>/", portal.portal_item, name="portal-kb-item"),
    path("attachments/<int:pk>/", portal.portal_attachment, name="portal-kb-attachment"),
]
