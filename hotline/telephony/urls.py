from django.urls import path

from . import views

urlpatterns = [
    path("callbar/", views.callbar, name="tel-callbar"),
    path("callbar/login/", views.agent_login, name="tel-agent-login"),
    path("callbar/state/", views.agent_state, name="tel-agent-state"),
    path("events/", views.events, name="tel-events"),
]
