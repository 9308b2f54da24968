from django.urls import path

from . import portal

urlpatterns = [
    path("", portal.index, name="portal-index"),
    path("submit/", portal.submit, name="portal-submit"),
    path("submit/done/", portal.submitted, name="portal-submitted"),
    path("code/", portal.send_code, name="portal-code"),
    path("case/", portal.lookup, name="portal-lookup"),
    path("case/<str:number>/", portal.case_page, name="portal-case"),
    path("mine/", portal.mine, name="portal-mine"),
]
