from django.urls import path

from . import views

urlpatterns = [
    path("", views.citizen_list, name="citizen-list"),
    path("pop/", views.screen_pop, name="citizen-pop"),
    path("blacklist/", views.blacklist, name="citizen-blacklist"),
    path("blacklist/<int:pk>/remove/", views.blacklist_remove, name="citizen-blacklist-remove"),
    path("import/<slug:kind>/", views.import_file, name="citizen-import"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="citizen-contact-delete"),
    path("<int:pk>/", views.citizen_detail, name="citizen-detail"),
    path("<int:pk>/contacts/", views.contact_add, name="citizen-contact-add"),
]
