from django.urls import path

from . import views

urlpatterns = [
    path("", views.inbox, name="bulletin-inbox"),
    path("sent/", views.sent, name="bulletin-sent"),
    path("drafts/", views.drafts, name="bulletin-drafts"),
    path("review/", views.review, name="bulletin-review"),
    path("new/", views.compose, name="bulletin-new"),
    path("unread/", views.unread_badge, name="bulletin-unread"),
    path("<int:pk>/", views.detail, name="bulletin-detail"),
    path("<int:pk>/edit/", views.compose, name="bulletin-edit"),
    path("<int:pk>/act/", views.act, name="bulletin-act"),
    path("attachments/<int:pk>/", views.attachment, name="bulletin-attachment"),
]
