from django.urls import path

from . import views

urlpatterns = [path("kannel/dlr/", views.kannel_dlr, name="kannel-dlr")]
