"""Middleware for every entry point (pages, API, admin): the request's context and the security headers."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .audit import current_ip
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
