from django.urls import path, re_path

from . import keys, views

FMT = r"(?P<fmt>json|xml)"

urlpatterns = [
    path("keys/", keys.key_request, name="open311-key-request"),
    re_path(r"^keys/(?P<token>[A-Za-z0-9_-]{20,64})/$", keys.key_claim, name="open311-key-claim"),
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
