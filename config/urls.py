from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from hotline.analytics import portal as analytics_portal
from hotline.common import views as common_views
from hotline.orgs import views as orgs_views

urlpatterns = [
    path("", common_views.home, name="home"),
    # The API first: partner systems call it hundreds of times a second, and every pattern tried before the match
    # costs resolver time (no page route starts with api/).
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's initialiser as a script file, which the Content-Security-Policy allows.
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("hotline.api_urls")),
    path("", include("hotline.cases.web_urls")),
    path("", include("hotline.sla.web_urls")),
    path("citizens/", include("hotline.citizens.web_urls")),
    path("kb/", include("hotline.knowledge.web_urls")),
    path("portal/kb/", include("hotline.knowledge.portal_urls")),
    path("portal/query-password/", include("hotline.cases.portal_urls")),
    path("portal/data/", analytics_portal.broadcast, name="portal-data"),
    path("portal/", include("hotline.intake.portal_urls")),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens/", orgs_views.account_tokens, name="account-tokens"),
    path("admin/", admin.site.urls),
    path("notify/", include("hotline.notify.urls")),
    path("telephony/", include("hotline.telephony.urls")),
    path("intake/", include("hotline.intake.urls")),
    path("integrations/", include("hotline.integrations.web_urls")),
    path("open311/", include("hotline.integrations.open311.urls")),
    path("bulletins/", include("hotline.bulletins.urls")),
    path("dispatching/", include("hotline.dispatching.urls")),
    path("flows/", include("hotline.flows.urls")),
    path("analytics/", include("hotline.analytics.web_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
