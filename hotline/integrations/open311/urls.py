from django.urls import path, re_path

from . import views

FMT = r"(?P<fmt>json|xml)"

urlpatterns = [
    re_path(rf"^discovery\.{FMT}$", views.discovery, name="open311-discovery"),
    path("v2/", views.root, name="open311-root"),
    re_path(rf"^v2/services\.{FMT}$", views.service_list, name="open311-services"),
    re_path(
        rf"^v2/services/(?P<code>[A-Za-z0-9_-]{{1,40}})\.{FMT}$",
        views.service_definition,
        name="open311-service",
    ),
    re_path(rf"^v2/requests\.{FMT}$", views.request_list, name="open311-requests"),
    re_path(
        rf"^v2/requests/(?P<request_id>[A-Za-z0-9_-]{{1,40}})\.{FMT}$",
        views.request_detail,
        name="open311-request",
    ),
    re_path(
        rf"^v2/tokens/(?P<token>[A-Za-z0-9_-]{{1,40}})\.{FMT}$", views.token_detail, name="open311-token"
    ),
]
