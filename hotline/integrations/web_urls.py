from django.urls import path

from . import views

urlpatterns = [
    path("partners/", views.partner_list, name="integ-partners"),
    path("partners/new/", views.partner_new, name="integ-partner-new"),
    path("partners/<int:pk>/", views.partner_detail, name="integ-partner"),
    path("partners/<int:pk>/edit/", views.partner_edit, name="integ-partner-edit"),
    path("partners/<int:pk>/rotate/", views.partner_rotate, name="integ-partner-rotate"),
    path("partners/<int:pk>/toggle/", views.partner_toggle, name="integ-partner-toggle"),
    path("partners/<int:pk>/subscriptions/", views.subscription_new, name="integ-subscription-new"),
    path("partners/<int:pk>/retry/", views.deliveries_retry, name="integ-deliveries-retry"),
    path("base-data/", views.base_data, name="integ-base-data"),
    path("cases/<int:case_pk>/emergency/", views.case_emergency, name="integ-case-emergency"),
    path("key-requests/<int:pk>/", views.key_request_decide, name="integ-key-request-decide"),
    path("base-data/<slug:kind>/export/", views.base_data_export, name="integ-base-data-export"),
]
