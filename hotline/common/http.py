"""Small helpers shared by the screens (Django views)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .errors import NotFound, ServiceError

T = TypeVar("T")


def get_or_404(fetch: Callable[..., T], **kwargs: Any) -> T:
    """A scoped selector's answer, its NotFound turned into the screen's 404 (same message)."""
    try:
        return fetch(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back to the page the form came from (its `next` field) when that is on this site, else to `fallback`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def error_text(exc: ServiceError, limit: int = 20) -> str:
    """A service's refusal as one line for a screen: its message, then the field messages that add to it."""
    details = [m for msgs in exc.field_errors.values() for m in msgs if m != exc.message]
    if not details:
        return exc.message
    more = _("等%(count)d处") % {"count": len(details)} if len(details) > limit else ""
    return _("%(message)s：%(details)s") % {
        "message": exc.message,
        "details": _("；").join(details[:limit]) + more,
    }


def report_error(request: HttpRequest, exc: ServiceError) -> None:
    """Show a service's refusal on the next page (Django messages)."""
    messages.error(request, error_text(exc))


def private_download(handle: Any, *, filename: str, content_type: str) -> FileResponse:
    """A stored private file sent as a download that no browser renders or caches (uploaded by anyone)."""
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type or "application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
