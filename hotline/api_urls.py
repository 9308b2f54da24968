from django.urls import include, path

# Partner systems' routes first: they are the most frequent callers (500 signed requests/s), and each include
# tried before the matching one costs resolver time (no two of these packages share a route).
urlpatterns = [
    path("", include("hotline.integrations.urls")),
    path("", include("hotline.orgs.urls")),
    path("", include("hotline.cases.urls")),
    path("", include("hotline.citizens.urls")),
    path("", include("hotline.sla.urls")),
    path("", include("hotline.knowledge.urls")),
    path("", include("hotline.telephony.api_urls")),
    path("", include("hotline.analytics.urls")),
    path("", include("hotline.flows.api_urls")),
    path("citizen/", include("hotline.intake.api_urls")),
    path("", include("hotline.intake.staff_api_urls")),
]
