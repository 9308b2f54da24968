"""Middleware for every entry point (pages, API, admin): the request's context and the security headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from .audit import current_ip
from .bounds import InputRejected, check_json, check_pairs
from .netaddr import client_address


class RequestContextMiddleware:
    """Takes the client address once, by the proxy rule, for the audit log, the throttles and the login lockout.

    The address is `request.client_ip` for code that has the request, and `audit.current_ip` for services that
    write the audit log without it (screen actions and API calls alike).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address = client_address(request.META)
        request.client_ip = address  # type: ignore[attr-defined]
        token = current_ip.set(address)
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (Django 5.2 sets neither).

    The pages carry no inline script or inline event handler (their behaviour is in static files), so the
    policy allows scripts from this origin only. Inline `style` attributes stay allowed: templates size bars
    and indent trees with them, and they cannot run code.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = settings.HOTLINE_CONTENT_SECURITY_POLICY
        self.permissions = settings.HOTLINE_PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.csp and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.csp
        if self.permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.permissions
        return response


class InputBoundsMiddleware:
    """Refuses out-of-bounds input with a 400 before any view runs (hotline/common/bounds.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check_pairs(_pairs(request.GET))
            content_type = request.content_type or ""
            if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
                if content_type == "application/json" or content_type.endswith("+json"):
                    check_json(request.body)
                elif content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
                    # Form fields only (files are the upload checks' business). CsrfViewMiddleware parses the
                    # form anyway; no view here replaces the upload handlers.
                    check_pairs(_pairs(request.POST))
        except InputRejected as rejected:
            return _rejected(request, rejected)
        except (UnicodeDecodeError, RequestDataTooBig, TooManyFieldsSent, MultiPartParserError):
            return _rejected(request, InputRejected("body", _("请求内容无法读取或过大")))
        return self.get_response(request)


def _pairs(data: Any) -> list[tuple[str, str]]:
    return [(key, value) for key, values in data.lists() for value in values]


def _rejected(request: HttpRequest, rejected: InputRejected) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = {"detail": _("输入有误"), "code": "invalid", "errors": {rejected.field: [rejected.message]}}
        return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
    return HttpResponseBadRequest(
        f"{_('输入有误')}：{rejected.field} {rejected.message}", content_type="text/plain; charset=utf-8"
    )
