"""Public pages where a civic app asks for an Open311 key and collects it after an administrator's approval."""

from __future__ import annotations

import math

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from hotline.common.errors import NotFound, ServiceError
from hotline.common.netaddr import request_client_ip
from hotline.common.throttles import AnonymousAddressRateThrottle

from .. import keyrequests


class KeyRequestThrottle(AnonymousAddressRateThrottle):
    scope = "open311_key_request"
    rate = "3/hour"


class KeyRequestForm(forms.Form):
    app_name = forms.CharField(label=gettext_lazy("应用名称"), max_length=100)
    developer = forms.CharField(label=gettext_lazy("开发者或机构"), max_length=100)
    contact_email = forms.EmailField(label=gettext_lazy("联系邮箱"))
    purpose = forms.CharField(
        label=gettext_lazy("用途说明"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4})
    )


@never_cache
def key_request(request: HttpRequest) -> HttpResponse:
    form = KeyRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttle = KeyRequestThrottle()
        if not throttle.allow_request(request, None):
            wait = math.ceil(throttle.wait() or 60)
            form.add_error(
                None, _("申请过于频繁，请%(minutes)s分钟后再试") % {"minutes": math.ceil(wait / 60)}
            )
            return render(request, "integrations/open311_key_request.html", {"form": form}, status=429)
        try:
            _request, token = keyrequests.key_request_create(
                client_ip=request_client_ip(request), **form.cleaned_data
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            claim_url = request.build_absolute_uri(reverse("open311-key-claim", args=[token]))
            return render(request, "integrations/open311_key_requested.html", {"claim_url": claim_url})
    status = 400 if request.method == "POST" else 200
    return render(request, "integrations/open311_key_request.html", {"form": form}, status=status)


@never_cache
def key_claim(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found, api_key = keyrequests.key_request_claim(token=token)
    except NotFound:
        raise Http404 from None
    response = render(
        request, "integrations/open311_key_claim.html", {"key_request": found, "api_key": api_key}
    )
    response["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response
