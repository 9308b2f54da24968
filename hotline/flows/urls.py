from django.urls import path

from . import views

app_name = "flows"

urlpatterns = [
    path("", views.template_list, name="list"),
    path("new/", views.template_new, name="new"),
    path("import/", views.template_import, name="import"),
    path("<int:pk>/", views.template_detail, name="flow-template"),
    path("<int:pk>/status/", views.template_status, name="flow-template-status"),
    path("<int:pk>/new-version/", views.version_new, name="flow-version-new"),
    path("versions/<int:pk>/", views.version_detail, name="flow-version"),
    path("versions/<int:pk>/edit/", views.version_edit, name="flow-edit"),
    path("versions/<int:pk>/export/", views.version_export, name="flow-export"),
    path("versions/<int:pk>/graph.svg", views.version_svg, name="flow-svg"),
    path("versions/<int:pk>/<slug:move>/", views.version_move, name="flow-move"),
]
