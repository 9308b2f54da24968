from django.urls import path

from . import views

app_name = "dispatching"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("matters/save/", views.matter_save, name="matter-save"),
    path("import/", views.catalogue_import, name="import"),
    path("settings/", views.settings_save, name="settings"),
    path("train/", views.train_now, name="train"),
]
