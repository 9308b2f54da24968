from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import include, path


@login_required
def rules(request):
    return render(request, "plugin_app/rules.html")


urlpatterns = [
    path("plugin/rules/", rules, name="plugin-rules"),
    path("", include("config.urls")),
]
